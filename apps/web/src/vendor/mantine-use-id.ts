import { useId as useReactId } from 'react';

/**
 * Stands in for @mantine/hooks' useId in the build (vite.config.mts). Mantine's version renders
 * with React's id, then swaps it for a random one in a layout effect: every component holding an
 * id (the app shell, nav links, inputs, tabs, popovers) renders a second time inside the first
 * commit, and React then runs all the page's effects before the browser paints. React's own id is
 * already unique and stable, which is all these ids are for (labels and aria links).
 */
export function useId(staticId?: string): string {
  const reactId = useReactId();
  // React's ids hold characters (":", "«", "»") that need escaping in CSS selectors.
  return typeof staticId === 'string' ? staticId : `mantine-${reactId.replace(/[^\w-]/g, '')}`;
}
