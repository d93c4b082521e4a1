import { Alert, Anchor, Button, Group, Stack, Table, Tabs, Text, TextInput, Title } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { IconEdit, IconSearch } from '@tabler/icons-react';
import { Suspense, lazy, useState } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { useImages, useRepository } from '../api/queries';
import type { Repository } from '../api/types';
import { DeleteRepositoryButton } from '../components/delete-repository-button';
import { KindBadge } from '../components/kind-badge';
import { LeanTableBody, leanClasses, uiHref } from '../components/lean-rows';
import { QueryState } from '../components/query-state';
import { formatDate, imagePath } from '../format';
import { useSession } from '../session';

// Most visits are for the images: Set Me Up's code loads when its tab opens.
const SetMeUp = lazy(() => import('../components/set-me-up').then((module) => ({ default: module.SetMeUp })));

export function RepositoryPage() {
  const key = useParams().key!;
  const repository = useRepository(key);
  const [params, setParams] = useSearchParams();
  const tab = params.get('tab') ?? 'images';
  const repo = repository.data;

  // The images are asked for at once, beside the repository: the page's first rows do not wait for its header.
  return (
    <Stack>
      <QueryState isPending={repository.isPending} error={repository.error}>
        {() => <RepositoryHeader repo={repo!} />}
      </QueryState>
      {!repository.error && (
        <Tabs value={tab} onChange={(value) => setParams(value === 'images' ? {} : { tab: value! }, { replace: true })}>
          <Tabs.List>
            <Tabs.Tab value="images">Images</Tabs.Tab>
            <Tabs.Tab value="setup">Set Me Up</Tabs.Tab>
          </Tabs.List>
          <Tabs.Panel value="images" pt="md">
            <ImageList repoKey={key} repo={repo} />
          </Tabs.Panel>
          <Tabs.Panel value="setup" pt="md">
            {repo && tab === 'setup' && (
              <Suspense fallback={null}>
                <SetMeUp repo={repo} />
              </Suspense>
            )}
          </Tabs.Panel>
        </Tabs>
      )}
    </Stack>
  );
}

function RepositoryHeader({ repo }: { repo: Repository }) {
  const { user } = useSession();
  return (
    <Group justify="space-between" align="flex-start">
      <Stack gap={4}>
        <Text size="sm">
          <Anchor component={Link} to="/repositories">
            Repositories
          </Anchor>{' '}
          /
        </Text>
        <Group gap="sm">
          <Title order={1} size="h2">
            {repo.key}
          </Title>
          <KindBadge kind={repo.rclass} />
        </Group>
        {repo.description && <Text c="gray.7">{repo.description}</Text>}
        {repo.rclass === 'remote' && <Text size="sm">Caches {repo.url}</Text>}
        {repo.rclass === 'virtual' && (
          <Text size="sm">
            Resolves, in order: {repo.repositories?.join(' → ') || 'no members yet'}
            {repo.defaultDeploymentRepo ? `; pushes go to ${repo.defaultDeploymentRepo}` : '; no deployment target (read only)'}
          </Text>
        )}
      </Stack>
      {user?.admin && (
        <Group>
          <Button component={Link} to={`/admin/repositories/${encodeURIComponent(repo.key)}/edit`} variant="default" leftSection={<IconEdit size={16} />}>
            Edit
          </Button>
          <DeleteRepositoryButton repoKey={repo.key} />
        </Group>
      )}
    </Group>
  );
}

function ImageList({ repoKey, repo }: { repoKey: string; repo?: Repository }) {
  const [search, setSearch] = useState('');
  const [q] = useDebouncedValue(search.trim(), 250);
  const images = useImages(repoKey, q);
  const rows = images.data?.pages.flatMap((page) => page.images) ?? [];

  return (
    <Stack>
      <TextInput
        label="Search images"
        leftSection={<IconSearch size={16} />}
        value={search}
        onChange={(e) => setSearch(e.currentTarget.value)}
        placeholder="part of a name"
        maw={360}
      />
      {repo?.rclass === 'remote' && <Alert color="blue">A remote shows what its cache holds: an image appears here once someone has pulled it through Wharf.</Alert>}
      <QueryState isPending={images.isPending} error={images.error}>
        {() =>
          rows.length === 0 ? (
            <Text c="gray.7">{q ? `No image name contains "${q}".` : 'No images yet: see Set Me Up for how to push one.'}</Text>
          ) : (
            <>
              <Table.ScrollContainer minWidth={480} type="native">
                <Table striped highlightOnHover aria-label="Images">
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th>Image</Table.Th>
                      <Table.Th ta="right">Tags</Table.Th>
                      <Table.Th>Last pushed</Table.Th>
                      {repo?.rclass === 'virtual' && <Table.Th>Held in</Table.Th>}
                    </Table.Tr>
                  </Table.Thead>
                  <LeanTableBody>
                    {rows.map((image) => (
                      <tr key={image.name}>
                        <td>
                          <a className={leanClasses.link} href={uiHref(imagePath(repoKey, image.name))}>
                            {image.name}
                          </a>
                        </td>
                        <td className={leanClasses.numeric}>{image.tags}</td>
                        <td>{formatDate(image.updatedAt)}</td>
                        {repo?.rclass === 'virtual' && <td>{image.repositories.join(', ')}</td>}
                      </tr>
                    ))}
                  </LeanTableBody>
                </Table>
              </Table.ScrollContainer>
              {images.hasNextPage && (
                <Button variant="default" onClick={() => images.fetchNextPage()} loading={images.isFetchingNextPage} w="fit-content">
                  Show more images
                </Button>
              )}
            </>
          )
        }
      </QueryState>
    </Stack>
  );
}
