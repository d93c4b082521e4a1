import { Alert, Anchor, Badge, Button, Group, Progress, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link } from 'react-router';
import { get, send } from '../api/client';
import type { GcRun, GcStatus, StorageInfo } from '../api/types';
import { QueryState } from '../components/query-state';
import { formatBytes, formatDate } from '../format';

/** Storage use per repository (GET /api/storageinfo) and garbage collection (/api/system/gc). */
export default function StoragePage() {
  const storage = useQuery({ queryKey: ['storageinfo'], queryFn: () => get<StorageInfo>('/api/storageinfo') });
  return (
    <Stack>
      <Title order={1} size="h2">
        Storage
      </Title>
      <QueryState isPending={storage.isPending} error={storage.error}>
        {() => <Usage info={storage.data!} />}
      </QueryState>
      <GarbageCollection />
    </Stack>
  );
}

function Stat({ label, value }: { label: string; value: string }) {
  return (
    <div>
      <Text size="sm" c="gray.7">
        {label}
      </Text>
      <Text fw={700} size="xl">
        {value}
      </Text>
    </div>
  );
}

function Usage({ info }: { info: StorageInfo }) {
  const { binaries, fileStore } = info;
  const used = fileStore.totalBytes && fileStore.freeBytes !== undefined ? fileStore.totalBytes - fileStore.freeBytes : undefined;
  return (
    <>
      <SimpleGrid cols={{ base: 2, sm: 4 }}>
        <Stat label="Blobs stored" value={String(binaries.count)} />
        <Stat label="Their bytes" value={formatBytes(binaries.bytes)} />
        <Stat label="Saved by dedup" value={formatBytes(binaries.savedByDedup)} />
        <Stat label="Free space" value={formatBytes(fileStore.freeBytes)} />
      </SimpleGrid>
      <Text size="sm">
        {fileStore.type === 's3' ? 'S3' : 'Filesystem'}: <code>{fileStore.location}</code>
      </Text>
      {used !== undefined && fileStore.totalBytes ? <Progress value={(used / fileStore.totalBytes) * 100} aria-label="Filesystem use" /> : null}
      <Table.ScrollContainer minWidth={640}>
        <Table striped aria-label="Storage per repository">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Repository</Table.Th>
              <Table.Th ta="right">Images</Table.Th>
              <Table.Th ta="right">Tags</Table.Th>
              <Table.Th ta="right">Manifests</Table.Th>
              <Table.Th ta="right">Size</Table.Th>
              <Table.Th ta="right">Only here</Table.Th>
              <Table.Th ta="right">Quota</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {info.repositories.map((repo) => (
              <Table.Tr key={repo.key}>
                <Table.Td>
                  <Anchor component={Link} to={`/repositories/${encodeURIComponent(repo.key)}`} fw={600}>
                    {repo.key}
                  </Anchor>
                </Table.Td>
                <Table.Td ta="right">{repo.images}</Table.Td>
                <Table.Td ta="right">{repo.tags}</Table.Td>
                <Table.Td ta="right">{repo.manifests}</Table.Td>
                <Table.Td ta="right">{formatBytes(repo.bytes)}</Table.Td>
                <Table.Td ta="right">{formatBytes(repo.uniqueBytes)}</Table.Td>
                <Table.Td ta="right">{repo.quotaBytes ? formatBytes(repo.quotaBytes) : '—'}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    </>
  );
}

function GarbageCollection() {
  const queries = useQueryClient();
  const status = useQuery({
    queryKey: ['gc'],
    queryFn: () => get<GcStatus>('/api/system/gc'),
    // While a run goes on, follow it.
    refetchInterval: (query) => (query.state.data?.running ? 1000 : false),
  });
  const start = useMutation({
    mutationFn: (dryRun: boolean) => send<GcRun>('POST', '/api/system/gc', { dryRun }),
    onSuccess: () => {
      queries.invalidateQueries({ queryKey: ['gc'] });
      queries.invalidateQueries({ queryKey: ['storageinfo'] });
    },
    onError: (err) => notifications.show({ color: 'red', title: 'Garbage collection did not start', message: err.message }),
  });
  return (
    <section aria-labelledby="gc-title">
      <Group justify="space-between" mb="xs">
        <Title order={2} size="h3" id="gc-title">
          Garbage collection
        </Title>
        <Group>
          <Button variant="default" onClick={() => start.mutate(true)} loading={start.isPending && start.variables === true} disabled={!!status.data?.running}>
            Dry run
          </Button>
          <Button onClick={() => start.mutate(false)} loading={start.isPending && start.variables === false} disabled={!!status.data?.running}>
            Run now
          </Button>
        </Group>
      </Group>
      <Text size="sm" c="gray.7" mb="xs">
        Frees blobs no repository links, idle uploads and what retention rules remove. It runs by itself on the configured schedule.
      </Text>
      <QueryState isPending={status.isPending} error={status.error}>
        {() =>
          status.data!.runs.length === 0 ? (
            <Alert color="gray">No run yet.</Alert>
          ) : (
            <Table.ScrollContainer minWidth={640}>
              <Table striped aria-label="Garbage collection runs">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Started</Table.Th>
                    <Table.Th>Status</Table.Th>
                    <Table.Th>Trigger</Table.Th>
                    <Table.Th ta="right">Blobs freed</Table.Th>
                    <Table.Th ta="right">Bytes freed</Table.Th>
                    <Table.Th>Finished</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {status.data!.runs.map((run) => (
                    <Table.Tr key={run.id}>
                      <Table.Td>{formatDate(run.startedAt)}</Table.Td>
                      <Table.Td>
                        <Badge color={run.status === 'finished' ? 'green' : run.status === 'running' ? 'blue' : 'red'} variant="light">
                          {run.status}
                          {run.dryRun ? ' (dry run)' : ''}
                        </Badge>
                        {run.phase && run.status === 'running' ? ` ${run.phase}` : ''}
                        {run.error ? ` ${run.error}` : ''}
                      </Table.Td>
                      <Table.Td>{run.requestedBy ? `${run.trigger} (${run.requestedBy})` : run.trigger}</Table.Td>
                      <Table.Td ta="right">{run.result.blobs.count}</Table.Td>
                      <Table.Td ta="right">{formatBytes(run.result.blobs.bytes)}</Table.Td>
                      <Table.Td>{formatDate(run.finishedAt)}</Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          )
        }
      </QueryState>
    </section>
  );
}
