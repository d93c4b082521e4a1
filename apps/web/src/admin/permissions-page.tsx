import { ActionIcon, Badge, Button, Checkbox, Code, Fieldset, Group, Modal, Select, Stack, Table, TagsInput, Text, TextInput, Title, Tooltip } from '@mantine/core';
import { IconPlus, IconTrash } from '@tabler/icons-react';
import { useState } from 'react';
import { send } from '../api/client';
import { useRepositories } from '../api/queries';
import type { Permission, RepositoryAction } from '../api/types';
import { QueryState } from '../components/query-state';
import { ModalForm } from './modal-form';
import { DeleteRowButton, EditRowButton } from './row-actions';
import { securityNameError, securityPath, useGroups, usePermissions, useSecurityChange, useUsers } from './security-api';
import { useEditor } from './use-editor';

const ACTIONS: { value: RepositoryAction; label: string }[] = [
  { value: 'read', label: 'Read (pull)' },
  { value: 'write', label: 'Write (push)' },
  { value: 'delete', label: 'Delete' },
  { value: 'manage', label: 'Manage' },
];

// The server's rule for repository keys and patterns (libs/auth/src/admin/scope-validation.ts).
const REPOSITORY_PATTERN = /^[a-z0-9.*-]{1,64}$/;

type PrincipalKind = 'user' | 'group';

interface Grant {
  kind: PrincipalKind;
  name: string;
  actions: RepositoryAction[];
}

/** A permission's principals as a flat list, users first, each in name order. */
function grantsOf(permission: Permission): Grant[] {
  const list = (kind: PrincipalKind, map: Record<string, RepositoryAction[]> = {}) =>
    Object.keys(map)
      .sort()
      .map((name) => ({ kind, name, actions: map[name] }));
  return [...list('user', permission.principals.users), ...list('group', permission.principals.groups)];
}

export default function PermissionsPage() {
  const permissions = usePermissions();
  const { opened, editing, edit, close } = useEditor<Permission>();

  return (
    <>
      <Group justify="space-between" mb="md">
        <Title order={1} size="h2">
          Permissions
        </Title>
        <Button leftSection={<IconPlus size={16} />} onClick={() => edit(null)}>
          New permission
        </Button>
      </Group>
      <Text mb="md" c="gray.7">
        A permission gives users and groups actions on the repositories it names. Administrators may do everything without one.
      </Text>
      <QueryState isPending={permissions.isPending} error={permissions.error}>
        {() =>
          permissions.data!.length === 0 ? (
            <Text c="gray.7">No permissions yet.</Text>
          ) : (
            <Table.ScrollContainer minWidth={640}>
              <Table striped highlightOnHover aria-label="Permissions">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Permission</Table.Th>
                    <Table.Th>Repositories</Table.Th>
                    <Table.Th>Grants</Table.Th>
                    <Table.Th>Actions</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {permissions.data!.map((permission) => {
                    const grants = grantsOf(permission);
                    return (
                      <Table.Tr key={permission.name}>
                        <Table.Td fw={600}>{permission.name}</Table.Td>
                        <Table.Td>
                          <Group gap={4}>
                            {permission.repositories.map((pattern) => (
                              <Code key={pattern}>{pattern}</Code>
                            ))}
                          </Group>
                        </Table.Td>
                        <Table.Td>
                          {grants.length === 0 ? (
                            'Nobody'
                          ) : (
                            <Stack gap={4}>
                              {grants.map((grant) => (
                                <Group key={`${grant.kind}:${grant.name}`} gap={6} wrap="nowrap">
                                  <Badge variant="light" color={grant.kind === 'user' ? 'blue' : 'grape'} tt="none">
                                    {grant.kind} {grant.name}
                                  </Badge>
                                  <Text size="sm">{grant.actions.length ? grant.actions.join(', ') : 'nothing'}</Text>
                                </Group>
                              ))}
                            </Stack>
                          )}
                        </Table.Td>
                        <Table.Td>
                          <Group gap={4} wrap="nowrap">
                            <EditRowButton label={`Edit permission ${permission.name}`} onClick={() => edit(permission)} />
                            <DeleteRowButton
                              kind="permissions"
                              noun="permission"
                              name={permission.name}
                              consequence="Its users and groups lose what it gave them at once, unless another permission gives it too."
                            />
                          </Group>
                        </Table.Td>
                      </Table.Tr>
                    );
                  })}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          )
        }
      </QueryState>
      <Modal opened={opened} onClose={close} title={editing ? `Edit permission ${editing.name}` : 'New permission'} size="lg">
        <PermissionForm key={editing?.name ?? ''} permission={editing} onDone={close} />
      </Modal>
    </>
  );
}

/** A row of the form: `principal` is "user:<name>" or "group:<name>" (names never hold ":"). */
interface GrantRow {
  id: number;
  principal: string | null;
  actions: RepositoryAction[];
}

let nextRowId = 0;
const newRow = (principal: string | null = null, actions: RepositoryAction[] = ['read']): GrantRow => ({ id: nextRowId++, principal, actions });

/** Creates a permission (`permission` null) or replaces one whole (PUT either way). */
function PermissionForm({ permission, onDone }: { permission: Permission | null; onDone: () => void }) {
  const users = useUsers();
  const groups = useGroups();
  const repositoryKeys = useRepositories().data?.map((r) => r.key) ?? [];
  const [name, setName] = useState('');
  const [repositories, setRepositories] = useState<string[]>(permission?.repositories ?? []);
  const [rows, setRows] = useState<GrantRow[]>(() => (permission ? grantsOf(permission).map((g) => newRow(`${g.kind}:${g.name}`, g.actions)) : [newRow()]));
  const [checked, setChecked] = useState(false);

  const target = permission?.name ?? name;
  const nameError = permission ? null : checked && !name ? 'Give the permission a name' : securityNameError(name);
  const badPattern = repositories.find((r) => !REPOSITORY_PATTERN.test(r));
  const repositoriesError = badPattern
    ? `“${badPattern}” is not a repository key or pattern (lowercase letters, digits, “.”, “-” and “*”)`
    : checked && repositories.length === 0
      ? 'Name at least one repository key or pattern'
      : null;
  const rowErrors = (row: GrantRow) => ({
    principal: checked && !row.principal ? 'Choose a user or group' : null,
    actions: checked && row.actions.length === 0 ? 'Choose at least one action' : null,
  });
  const valid = !securityNameError(target) && !!target && repositories.length > 0 && !badPattern && rows.every((row) => row.principal && row.actions.length > 0);

  const save = useSecurityChange(
    () => {
      const principals: { users: Record<string, RepositoryAction[]>; groups: Record<string, RepositoryAction[]> } = { users: {}, groups: {} };
      for (const row of rows) {
        const [kind, principal] = splitPrincipal(row.principal!);
        principals[kind === 'user' ? 'users' : 'groups'][principal] = ACTIONS.map((a) => a.value).filter((a) => row.actions.includes(a));
      }
      return send('PUT', securityPath('permissions', target), { repositories, principals });
    },
    permission ? `Permission ${target} saved` : `Permission ${target} created`,
    onDone,
  );

  const taken = new Set(rows.map((row) => row.principal));
  const principalOptions = (row: GrantRow) => {
    const option = (kind: PrincipalKind, principal: string) => {
      const value = `${kind}:${principal}`;
      return { value, label: `${principal} (${kind})`, disabled: taken.has(value) && row.principal !== value };
    };
    // Keep the row's own choice even if the lists are still loading.
    const userNames = new Set([...(users.data ?? []).map((u) => u.username), ...rows.filter((r) => r.principal?.startsWith('user:')).map((r) => splitPrincipal(r.principal!)[1])]);
    const groupNames = new Set([...(groups.data ?? []).map((g) => g.name), ...rows.filter((r) => r.principal?.startsWith('group:')).map((r) => splitPrincipal(r.principal!)[1])]);
    return [
      { group: 'Users', items: [...userNames].sort().map((u) => option('user', u)) },
      { group: 'Groups', items: [...groupNames].sort().map((g) => option('group', g)) },
    ];
  };
  const update = (id: number, change: Partial<GrantRow>) => setRows((current) => current.map((row) => (row.id === id ? { ...row, ...change } : row)));

  return (
    <ModalForm
      onSubmit={() => {
        setChecked(true);
        if (valid) save.mutate();
      }}
      onCancel={onDone}
      submitLabel={permission ? 'Save' : 'Create permission'}
      pending={save.isPending}
      error={save.error}
    >
      {!permission && (
        <TextInput
          label="Name"
          required
          data-autofocus
          autoComplete="off"
          value={name}
          onChange={(e) => setName(e.currentTarget.value)}
          error={nameError}
          description="Lowercase letters, digits, “.”, “_”, “@” and “-”"
        />
      )}
      <TagsInput
        label="Repositories"
        description="Repository keys, or patterns with * (docker-* matches docker-local). Enter or comma adds one."
        withAsterisk
        data={repositoryKeys}
        value={repositories}
        onChange={setRepositories}
        splitChars={[',', ' ']}
        clearable
        error={repositoriesError}
      />
      {rows.map((row, index) => {
        const errors = rowErrors(row);
        const title = row.principal ? splitPrincipal(row.principal).join(' ') : `grant ${index + 1}`;
        return (
          <Fieldset key={row.id} legend={`Grant ${index + 1}`} variant="filled">
            <Group align="flex-start" wrap="nowrap">
              <Stack gap="xs" style={{ flex: 1 }}>
                <Select
                  label="User or group"
                  withAsterisk
                  data={principalOptions(row)}
                  value={row.principal}
                  onChange={(principal) => update(row.id, { principal })}
                  searchable
                  nothingFoundMessage={users.isPending || groups.isPending ? 'Loading…' : 'No such user or group'}
                  error={errors.principal}
                />
                <Checkbox.Group
                  label="Actions"
                  withAsterisk
                  value={row.actions}
                  onChange={(actions) => update(row.id, { actions: actions as RepositoryAction[] })}
                  error={errors.actions}
                >
                  <Group mt={6} gap="md">
                    {ACTIONS.map((action) => (
                      <Checkbox key={action.value} value={action.value} label={action.label} />
                    ))}
                  </Group>
                </Checkbox.Group>
              </Stack>
              <Tooltip label={`Remove ${title}`}>
                <ActionIcon variant="subtle" color="red" mt={28} aria-label={`Remove ${title}`} onClick={() => setRows((current) => current.filter((r) => r.id !== row.id))}>
                  <IconTrash size={16} />
                </ActionIcon>
              </Tooltip>
            </Group>
          </Fieldset>
        );
      })}
      {rows.length === 0 && <Text c="gray.7">Nobody is granted anything yet.</Text>}
      <Group>
        <Button variant="light" leftSection={<IconPlus size={16} />} onClick={() => setRows((current) => [...current, newRow()])}>
          Add user or group
        </Button>
      </Group>
    </ModalForm>
  );
}

function splitPrincipal(principal: string): [PrincipalKind, string] {
  const colon = principal.indexOf(':');
  return [principal.slice(0, colon) as PrincipalKind, principal.slice(colon + 1)];
}
