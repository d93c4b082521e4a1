import { Alert, Badge, Button, Checkbox, Group, Modal, NumberInput, Stack, Table, TagsInput, Text, TextInput, Title } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { notifications } from '@mantine/notifications';
import { IconKey } from '@tabler/icons-react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { FormEvent, useState } from 'react';
import { Navigate } from 'react-router';
import { get, send } from '../api/client';
import type { AccessToken, CreatedAccessToken } from '../api/types';
import { CopyCode } from '../components/copy-code';
import { QueryState } from '../components/query-state';
import { formatDate } from '../format';
import { useSession } from '../session';

const ACTIONS = ['read', 'write', 'delete', 'manage'];

/** Access tokens: for clients and CI instead of a password. An admin sees everyone's. */
export default function TokensPage() {
  const { user, loading } = useSession();
  const tokens = useQuery({ queryKey: ['tokens'], queryFn: () => get<AccessToken[]>('/api/security/tokens'), enabled: !!user });
  const queries = useQueryClient();
  const revoke = useMutation({
    mutationFn: (token: AccessToken) => send('DELETE', `/api/security/tokens/${token.id}`),
    onSuccess: (_, token) => {
      queries.invalidateQueries({ queryKey: ['tokens'] });
      notifications.show({ color: 'green', message: `Token ${token.name} revoked` });
    },
    onError: (err) => notifications.show({ color: 'red', title: 'Not revoked', message: err.message }),
  });

  if (loading) return null;
  if (!user) return <Navigate to="/sign-in?next=/tokens" replace />;
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={1} size="h2">
          Access tokens
        </Title>
        <NewTokenButton />
      </Group>
      <Text c="gray.7">Use a token as the password of docker login, podman, skopeo and CI. Revoking one takes effect at once.</Text>
      <QueryState isPending={tokens.isPending} error={tokens.error}>
        {() =>
          tokens.data!.length === 0 ? (
            <Text>No tokens yet.</Text>
          ) : (
            <Table.ScrollContainer minWidth={640}>
              <Table striped aria-label="Access tokens">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Name</Table.Th>
                    {user.admin && <Table.Th>User</Table.Th>}
                    <Table.Th>Repositories</Table.Th>
                    <Table.Th>Actions</Table.Th>
                    <Table.Th>Created</Table.Th>
                    <Table.Th>Expires</Table.Th>
                    <Table.Th aria-label="Revoke" />
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {tokens.data!.map((token) => (
                    <Table.Tr key={token.id}>
                      <Table.Td fw={600}>{token.name}</Table.Td>
                      {user.admin && <Table.Td>{token.user}</Table.Td>}
                      <Table.Td>{token.repositories.join(', ')}</Table.Td>
                      <Table.Td>{token.actions.join(', ')}</Table.Td>
                      <Table.Td>{formatDate(token.createdAt)}</Table.Td>
                      <Table.Td>{token.expiresAt ? formatDate(token.expiresAt) : 'never'}</Table.Td>
                      <Table.Td>
                        {token.revoked ? (
                          <Badge color="gray">revoked</Badge>
                        ) : token.expired ? (
                          <Badge color="gray">expired</Badge>
                        ) : (
                          <Button size="xs" color="red" variant="light" onClick={() => revoke.mutate(token)} aria-label={`Revoke ${token.name}`}>
                            Revoke
                          </Button>
                        )}
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          )
        }
      </QueryState>
    </Stack>
  );
}

function NewTokenButton() {
  const [opened, { open, close }] = useDisclosure();
  const queries = useQueryClient();
  const [name, setName] = useState('');
  const [repositories, setRepositories] = useState<string[]>(['*']);
  const [actions, setActions] = useState<string[]>(['read']);
  const [days, setDays] = useState<number | string>(90);
  const [created, setCreated] = useState<CreatedAccessToken | null>(null);
  const create = useMutation({
    mutationFn: () => send<CreatedAccessToken>('POST', '/api/security/tokens', { name, repositories, actions, expiresInSeconds: Number(days) * 86400 }),
    onSuccess: (token) => {
      setCreated(token);
      queries.invalidateQueries({ queryKey: ['tokens'] });
    },
  });

  function submit(event: FormEvent) {
    event.preventDefault();
    create.mutate();
  }

  function done() {
    close();
    setCreated(null);
    setName('');
    create.reset();
  }

  return (
    <>
      <Button leftSection={<IconKey size={16} />} onClick={open}>
        New token
      </Button>
      <Modal opened={opened} onClose={done} title={created ? 'Token created' : 'New access token'}>
        {created ? (
          <Stack>
            <Alert color="yellow">This is the only time the token is shown: copy it now.</Alert>
            <CopyCode value={created.token} label="access token" />
            <Button onClick={done}>Done</Button>
          </Stack>
        ) : (
          <form onSubmit={submit}>
            <Stack>
              <TextInput label="Name" required value={name} onChange={(e) => setName(e.currentTarget.value)} placeholder="ci-pipeline" />
              <TagsInput label="Repositories" description="Keys or patterns with *; press Enter after each" value={repositories} onChange={setRepositories} />
              <Checkbox.Group label="Actions" value={actions} onChange={setActions}>
                <Group mt={4}>
                  {ACTIONS.map((action) => (
                    <Checkbox key={action} value={action} label={action} />
                  ))}
                </Group>
              </Checkbox.Group>
              <NumberInput label="Expires after (days)" min={1} value={days} onChange={setDays} />
              {create.error && (
                <Alert color="red" role="alert">
                  {create.error.message}
                </Alert>
              )}
              <Button type="submit" loading={create.isPending}>
                Create token
              </Button>
            </Stack>
          </form>
        )}
      </Modal>
    </>
  );
}
