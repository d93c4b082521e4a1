import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { apiPath, get } from './client';
import type { ImagesPage, ManifestDetail, Repository, SystemInfo, TagsPage } from './types';

const PAGE_SIZE = 50;

export const useSystemInfo = () => useQuery({ queryKey: ['system-info'], queryFn: () => get<SystemInfo>('/api/system/info'), staleTime: Number.POSITIVE_INFINITY });

export const useRepositories = () => useQuery({ queryKey: ['repositories'], queryFn: () => get<Repository[]>('/api/repositories') });

export const useRepository = (key: string, enabled = true) =>
  useQuery({ queryKey: ['repositories', key], queryFn: () => get<Repository>(`/api/repositories/${encodeURIComponent(key)}`), enabled });

/** Images of a repository, a page at a time from the server (keyset paging on the name). */
export const useImages = (key: string, q: string) =>
  useInfiniteQuery({
    queryKey: ['images', key, q],
    queryFn: ({ pageParam }) => get<ImagesPage>(apiPath(`/api/repositories/${encodeURIComponent(key)}/images`, { q, after: pageParam, limit: PAGE_SIZE })),
    initialPageParam: '',
    getNextPageParam: (page) => page.next ?? undefined,
  });

export const useTags = (key: string, image: string) =>
  useInfiniteQuery({
    queryKey: ['tags', key, image],
    queryFn: ({ pageParam }) => get<TagsPage>(apiPath(`/api/repositories/${encodeURIComponent(key)}/tags`, { image, after: pageParam, limit: PAGE_SIZE })),
    initialPageParam: '',
    getNextPageParam: (page) => page.next ?? undefined,
  });

export const useManifest = (key: string, image: string, reference: string) =>
  useQuery({
    queryKey: ['manifest', key, image, reference],
    queryFn: () => get<ManifestDetail>(apiPath(`/api/repositories/${encodeURIComponent(key)}/manifest`, { image, reference })),
  });
