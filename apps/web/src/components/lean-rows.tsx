import type { MouseEvent, ReactNode } from 'react';
import { useNavigate } from 'react-router';
import classes from './lean-rows.module.css';

/** Where the router is mounted (main.tsx): plain links carry the full path. */
export const UI_BASE = '/ui';

/**
 * The body of a long table on a page's first view, for a page of rows that each link somewhere.
 * Table.Tr/Table.Td with an Anchor and a router Link per row made about 20 React components per
 * row, and rendering 50 of them was a third of the repository page's time to its first rows in
 * the browser; here a row is plain elements styled like Mantine's (lean-rows.module.css), and one
 * click handler on the body does the router's job for every link in it.
 */
export function LeanTableBody({ children }: { children: ReactNode }) {
  const navigate = useNavigate();
  const onClick = (event: MouseEvent<HTMLTableSectionElement>) => {
    // Modified clicks (new tab, new window, download) stay the browser's.
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const link = (event.target as Element).closest('a');
    const href = link?.getAttribute('href');
    if (!href?.startsWith(`${UI_BASE}/`)) return;
    event.preventDefault();
    navigate(href.slice(UI_BASE.length));
  };
  return (
    // biome-ignore lint/a11y/useKeyWithClickEvents: the clicks handled are the links' own, which Enter on a focused link fires too
    <tbody className={classes.body} onClick={onClick}>
      {children}
    </tbody>
  );
}

/** The href of an app route (`/repositories/...`) for a plain link inside a LeanTableBody, styled with `leanClasses.link`. */
export const uiHref = (to: string) => `${UI_BASE}${to}`;

export const leanClasses = classes;
