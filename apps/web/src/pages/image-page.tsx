import { Anchor, Button, Stack, Table, Text, Title } from '@mantine/core';
import { Link } from 'react-router';
import { useRepository, useSystemInfo, useTags } from '../api/queries';
import { ImageBreadcrumbs } from '../components/breadcrumbs';
import { CopyCode } from '../components/copy-code';
import { DeleteTagButton } from '../components/delete-tag-button';
import { NameBadges } from '../components/name-badges';
import { QueryState } from '../components/query-state';
import { formatBytes, formatDate, imagePath, shortDigest } from '../format';

export function ImagePage({ repoKey, image }: { repoKey: string; image: string }) {
  const tags = useTags(repoKey, image);
  const repository = useRepository(repoKey);
  const info = useSystemInfo();
  const rows = tags.data?.pages.flatMap((page) => page.tags) ?? [];
  const mayDelete = repository.data?.actions?.includes('delete') ?? false;

  return (
    <Stack>
      <ImageBreadcrumbs repoKey={repoKey} image={image} />
      <Title order={1} size="h2">
        {image}
      </Title>
      {info.data && <CopyCode value={`docker pull ${info.data.registryHost}/${repoKey}/${image}:${rows[0]?.name ?? 'latest'}`} label="pull command" />}
      <QueryState isPending={tags.isPending} error={tags.error}>
        {() =>
          rows.length === 0 ? (
            <Text c="gray.7">This image has no tags: its manifests are reachable by digest only.</Text>
          ) : (
            <>
              <Table.ScrollContainer minWidth={640}>
                <Table striped highlightOnHover aria-label="Tags" style={{ whiteSpace: 'nowrap' }}>
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th>Tag</Table.Th>
                      <Table.Th>Digest</Table.Th>
                      <Table.Th ta="right">Size</Table.Th>
                      <Table.Th>Platforms</Table.Th>
                      <Table.Th>Pushed</Table.Th>
                      {mayDelete && <Table.Th aria-label="Actions" />}
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {rows.map((tag) => (
                      <Table.Tr key={tag.name}>
                        <Table.Td>
                          <Anchor component={Link} to={imagePath(repoKey, image, tag.name)} fw={600}>
                            {tag.name}
                          </Anchor>
                        </Table.Td>
                        <Table.Td>
                          <Anchor component={Link} to={imagePath(repoKey, image, tag.digest)} ff="monospace" size="sm" title={tag.digest}>
                            {shortDigest(tag.digest)}
                          </Anchor>
                        </Table.Td>
                        <Table.Td ta="right">{formatBytes(tag.size)}</Table.Td>
                        <Table.Td>
                          <NameBadges names={tag.platforms} />
                        </Table.Td>
                        <Table.Td>{formatDate(tag.pushedAt)}</Table.Td>
                        {mayDelete && (
                          <Table.Td>
                            <DeleteTagButton repoKey={repoKey} image={image} tag={tag.name} compact />
                          </Table.Td>
                        )}
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
              </Table.ScrollContainer>
              {tags.hasNextPage && (
                <Button variant="default" onClick={() => tags.fetchNextPage()} loading={tags.isFetchingNextPage} w="fit-content">
                  Show more tags
                </Button>
              )}
            </>
          )
        }
      </QueryState>
    </Stack>
  );
}
