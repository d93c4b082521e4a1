import { Anchor, Button, Group, SegmentedControl, Table, Text, TextInput, Title } from '@mantine/core';
import { IconPlus, IconSearch } from '@tabler/icons-react';
import { useState } from 'react';
import { Link } from 'react-router';
import { useRepositories } from '../api/queries';
import { KindBadge } from '../components/kind-badge';
import { QueryState } from '../components/query-state';
import { formatBytes } from '../format';
import { useSession } from '../session';

export function RepositoriesPage() {
  const repositories = useRepositories();
  const { user } = useSession();
  const [filter, setFilter] = useState('');
  const [kind, setKind] = useState('all');

  return (
    <>
      <Group justify="space-between" mb="md">
        <Title order={1} size="h2">
          Repositories
        </Title>
        {user?.admin && (
          <Button component={Link} to="/admin/repositories/new" leftSection={<IconPlus size={16} />}>
            New repository
          </Button>
        )}
      </Group>
      <Group mb="md" align="flex-end">
        <TextInput label="Filter by name" leftSection={<IconSearch size={16} />} value={filter} onChange={(e) => setFilter(e.currentTarget.value)} placeholder="docker-" />
        <SegmentedControl
          aria-label="Kind"
          value={kind}
          onChange={setKind}
          data={[
            { value: 'all', label: 'All' },
            { value: 'local', label: 'Local' },
            { value: 'remote', label: 'Remote' },
            { value: 'virtual', label: 'Virtual' },
          ]}
        />
      </Group>
      <QueryState isPending={repositories.isPending} error={repositories.error}>
        {() => {
          const shown = repositories.data!.filter((r) => (kind === 'all' || r.rclass === kind) && r.key.toLowerCase().includes(filter.toLowerCase()));
          if (shown.length === 0)
            return (
              <Text c="gray.7">
                {repositories.data!.length === 0 ? (user ? 'No repository you may read yet.' : 'Nothing is readable anonymously: sign in.') : 'No repository matches.'}
              </Text>
            );
          return (
            <Table.ScrollContainer minWidth={560}>
              <Table striped highlightOnHover aria-label="Repositories">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Repository</Table.Th>
                    <Table.Th>Kind</Table.Th>
                    <Table.Th>Description</Table.Th>
                    <Table.Th ta="right">Images</Table.Th>
                    <Table.Th ta="right">Size</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {shown.map((repo) => (
                    <Table.Tr key={repo.key}>
                      <Table.Td>
                        <Anchor component={Link} to={`/repositories/${encodeURIComponent(repo.key)}`} fw={600}>
                          {repo.key}
                        </Anchor>
                      </Table.Td>
                      <Table.Td>
                        <KindBadge kind={repo.rclass} />
                      </Table.Td>
                      <Table.Td>{repo.description || (repo.rclass === 'virtual' ? `${repo.repositories?.join(', ')}` : (repo.url ?? ''))}</Table.Td>
                      <Table.Td ta="right">{repo.stats?.images ?? '—'}</Table.Td>
                      <Table.Td ta="right">{formatBytes(repo.stats?.bytes)}</Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          );
        }}
      </QueryState>
    </>
  );
}
