import { infiniteQueryOptions, queryOptions, useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { ApiError, apiPath, get } from './client';
import type { ImagesPage, ManifestDetail, Repository, SessionView, SystemInfo, TagsPage } from './types';

const PAGE_SIZE = 50;

// Each query defined once: the hooks below and the first view's prefetch (query-client.ts) share them.

async function currentSession(): Promise<SessionView | null> {
  try {
    return await get<SessionView>('/api/session');
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return null;
    throw err;
  }
}

export const sessionQuery = queryOptions({ queryKey: ['session'], queryFn: currentSession, staleTime: Number.POSITIVE_INFINITY });

export const systemInfoQuery = queryOptions({ queryKey: ['system-info'], queryFn: () => get<SystemInfo>('/api/system/info'), staleTime: Number.POSITIVE_INFINITY });

export const repositoriesQuery = queryOptions({ queryKey: ['repositories'], queryFn: () => get<Repository[]>('/api/repositories') });

export const repositoryQuery = (key: string) => queryOptions({ queryKey: ['repositories', key], queryFn: () => get<Repository>(`/api/repositories/${encodeURIComponent(key)}`) });

/** Images of a repository, a page at a time from the server (keyset paging on the name). */
export const imagesQuery = (key: string, q: string) =>
  infiniteQueryOptions({
    queryKey: ['images', key, q],
    queryFn: ({ pageParam }) => get<ImagesPage>(apiPath(`/api/repositories/${encodeURIComponent(key)}/images`, { q, after: pageParam, limit: PAGE_SIZE })),
    initialPageParam: '',
    getNextPageParam: (page) => page.next ?? undefined,
  });

export const tagsQuery = (key: string, image: string) =>
  infiniteQueryOptions({
    queryKey: ['tags', key, image],
    queryFn: ({ pageParam }) => get<TagsPage>(apiPath(`/api/repositories/${encodeURIComponent(key)}/tags`, { image, after: pageParam, limit: PAGE_SIZE })),
    initialPageParam: '',
    getNextPageParam: (page) => page.next ?? undefined,
  });

export const manifestQuery = (key: string, image: string, reference: string) =>
  queryOptions({
    queryKey: ['manifest', key, image, reference],
    queryFn: () => get<ManifestDetail>(apiPath(`/api/repositories/${encodeURIComponent(key)}/manifest`, { image, reference })),
  });

export const useSystemInfo = () => useQuery(systemInfoQuery);
export const useRepositories = () => useQuery(repositoriesQuery);
export const useRepository = (key: string, enabled = true) => useQuery({ ...repositoryQuery(key), enabled });
export const useImages = (key: string, q: string) => useInfiniteQuery(imagesQuery(key, q));
export const useTags = (key: string, image: string) => useInfiniteQuery(tagsQuery(key, image));
export const useManifest = (key: string, image: string, reference: string) => useQuery(manifestQuery(key, image, reference));
