/**
 * Runs `batch` until one takes nothing, and answers how many they took in all. A sweep works in
 * short batches, each its own transaction; taking one thing may free another for the next (an
 * index taken frees its children). `between` runs before each batch: a GC that is shutting down
 * stops there, with every batch it finished complete.
 */
export async function drain(batch: () => Promise<number>, between: () => void = () => undefined): Promise<number> {
  let total = 0;
  for (;;) {
    between();
    const taken = await batch();
    if (taken === 0) return total;
    total += taken;
  }
}
