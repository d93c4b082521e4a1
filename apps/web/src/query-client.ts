import { QueryClient } from '@tanstack/react-query';
import { ApiError } from './api/client';
import { imagesQuery, manifestQuery, repositoriesQuery, repositoryQuery, sessionQuery, systemInfoQuery, tagsQuery } from './api/queries';
import { parseImageReference } from './format';

export const queries = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 10_000,
      // A 4xx will not get better by asking again.
      retry: (count, err) => !(err instanceof ApiError && err.status < 500) && count < 2,
      refetchOnWindowFocus: false,
    },
  },
});

/**
 * The opened page's API calls, started as soon as this module runs. main.tsx imports it first,
 * so the calls travel while the rest of the app's code (React, Mantine) is still being evaluated,
 * and the page's first render finds their answers in the cache: one render with the data rather
 * than a render that asks for it, then one per answer. Resolves when all have settled (failures
 * stay in the cache for the page to show).
 */
function prefetchOpenedPage(pathname: string): Promise<unknown> {
  const calls: Promise<unknown>[] = [queries.prefetchQuery(sessionQuery)];
  const page = openedPage(pathname);
  if (page?.kind === 'repositories') calls.push(queries.prefetchQuery(repositoriesQuery));
  if (page?.kind === 'repository') calls.push(queries.prefetchQuery(repositoryQuery(page.key)), queries.prefetchInfiniteQuery(imagesQuery(page.key, '')));
  if (page?.kind === 'image') {
    const { image, reference } = parseImageReference(page.image);
    calls.push(
      queries.prefetchQuery(repositoryQuery(page.key)),
      queries.prefetchQuery(systemInfoQuery),
      reference ? queries.prefetchQuery(manifestQuery(page.key, image, reference)) : queries.prefetchInfiniteQuery(tagsQuery(page.key, image)),
    );
  }
  return Promise.all(calls);
}

type OpenedPage = { kind: 'repositories' } | { kind: 'repository'; key: string } | { kind: 'image'; key: string; image: string };

/**
 * The browsing routes of app.tsx, read from the URL by hand: react-router's matchPath would
 * evaluate the router's modules first and delay these calls by several milliseconds. A page not
 * recognised here just asks for its data itself.
 */
function openedPage(pathname: string): OpenedPage | undefined {
  const match = /^\/ui\/repositories(?:\/([^/]+)(?:\/images\/(.+))?)?\/?$/.exec(pathname);
  if (!match) return undefined;
  let key: string | undefined;
  let image: string | undefined;
  try {
    [key, image] = match.slice(1).map((part) => (part === undefined ? undefined : decodeURIComponent(part)));
  } catch {
    return undefined; // a malformed escape: the page itself will say the route is not found
  }
  if (key && image) return { kind: 'image', key, image };
  return key ? { kind: 'repository', key } : { kind: 'repositories' };
}

export const openedPageData = prefetchOpenedPage(window.location.pathname);
