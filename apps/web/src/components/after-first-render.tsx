import { type ReactNode, Suspense, useEffect, useState } from 'react';

/**
 * Renders `children` (a lazy component) only once the page has rendered and painted, showing
 * `fallback` until its code is there. Asking for a lazy component during the first render made
 * React run the import (and Vite's preload of its chunks) inside that render: ~20 ms of the
 * repository page's time to its first rows, for a menu nobody has opened yet.
 */
export function AfterFirstRender({ children, fallback = null }: { children: ReactNode; fallback?: ReactNode }) {
  const [rendered, setRendered] = useState(false);
  useEffect(() => setRendered(true), []);
  return rendered ? <Suspense fallback={fallback}>{children}</Suspense> : fallback;
}
