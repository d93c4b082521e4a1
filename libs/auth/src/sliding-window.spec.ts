import { remaining, secondsUntilAllowed, windowAt } from './sliding-window';

describe('sliding window', () => {
  it('places a moment in its epoch-aligned window, with the weight left to the previous one', () => {
    expect(windowAt(3_600_000, 3600)).toEqual({ start: 3_600_000, previousStart: 0, previousWeight: 1 });
    expect(windowAt(3_600_000 + 900_000, 3600)).toEqual({ start: 3_600_000, previousStart: 0, previousWeight: 0.75 });
    expect(windowAt(7_199_999, 3600).start).toBe(3_600_000);
  });

  it('counts down from the limit, the previous window weighted', () => {
    expect(remaining(100, { current: 24, previous: 0 }, 0.5)).toBe(76);
    expect(remaining(100, { current: 24, previous: 40 }, 0.5)).toBe(56);
    expect(remaining(100, { current: 24, previous: 41 }, 0.5)).toBe(55);
    expect(remaining(10, { current: 10, previous: 30 }, 0.9)).toBe(0);
  });

  it('this window full: waits into the next until this one weighs little enough', () => {
    // Limit 1, one pull made, a quarter into a 100 s window: the whole next window must pass.
    expect(secondsUntilAllowed(1, { current: 1, previous: 0 }, 0.75, 100)).toBe(175);
    // Limit 10, 10 made: this window's weight must fall to 9/10, a tenth into the next.
    expect(secondsUntilAllowed(10, { current: 10, previous: 0 }, 0.5, 100)).toBe(60);
  });

  it('room in this window: waits while the previous window fades', () => {
    // 4 of 10 now, 12 before at weight 0.75 (estimate 13): the weight must fall to 5/12.
    expect(secondsUntilAllowed(10, { current: 4, previous: 12 }, 0.75, 120)).toBe(Math.ceil((0.75 - 5 / 12) * 120));
    // Never less than a second, even at the very edge.
    expect(secondsUntilAllowed(10, { current: 9, previous: 1 }, 0.001, 100)).toBe(1);
  });

  it('after the advertised wait, one more request fits', () => {
    for (const [limit, current, previous, weight] of [
      [5, 5, 3, 0.4],
      [5, 2, 9, 0.9],
      [100, 100, 100, 0.01],
      [7, 3, 50, 1],
    ]) {
      const window = 600;
      const wait = secondsUntilAllowed(limit, { current, previous }, weight, window);
      const elapsed = (1 - weight) * window + wait;
      const counts = elapsed < window ? { current, previous } : { current: 0, previous: current };
      const laterWeight = elapsed < window ? 1 - elapsed / window : 1 - (elapsed - window) / window;
      expect(counts.current + 1 + counts.previous * laterWeight).toBeLessThanOrEqual(limit + 1e-9);
      // and not a whole second earlier
      const before = elapsed - 1;
      const earlier = before < window ? current + 1 + previous * (1 - before / window) : 1 + current * (1 - (before - window) / window);
      expect(earlier).toBeGreaterThan(limit);
    }
  });
});
