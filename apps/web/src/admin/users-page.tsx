import { Badge, Button, Checkbox, Group, Modal, MultiSelect, PasswordInput, Table, Text, TextInput, Title } from '@mantine/core';
import { IconPlus } from '@tabler/icons-react';
import { useState } from 'react';
import { send } from '../api/client';
import type { User } from '../api/types';
import { QueryState } from '../components/query-state';
import { useSession } from '../session';
import { ModalForm } from './modal-form';
import { DeleteRowButton, EditRowButton } from './row-actions';
import { securityNameError, securityPath, useGroups, useSecurityChange, useUsers } from './security-api';
import { NameBadges } from '../components/name-badges';
import { useEditor } from './use-editor';

const PASSWORD_MIN_LENGTH = 8;
const PASSWORD_MAX_LENGTH = 1024;

export default function UsersPage() {
  const users = useUsers();
  const { user: me } = useSession();
  const { opened, editing, edit, close } = useEditor<User>();

  return (
    <>
      <Group justify="space-between" mb="md">
        <Title order={1} size="h2">
          Users
        </Title>
        <Button leftSection={<IconPlus size={16} />} onClick={() => edit(null)}>
          New user
        </Button>
      </Group>
      <QueryState isPending={users.isPending} error={users.error}>
        {() =>
          users.data!.length === 0 ? (
            <Text c="gray.7">No users yet.</Text>
          ) : (
            <Table.ScrollContainer minWidth={720}>
              <Table striped highlightOnHover aria-label="Users">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Username</Table.Th>
                    <Table.Th>Email</Table.Th>
                    <Table.Th>Role</Table.Th>
                    <Table.Th>Status</Table.Th>
                    <Table.Th>Groups</Table.Th>
                    <Table.Th>Actions</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {users.data!.map((user) => (
                    <Table.Tr key={user.username}>
                      <Table.Td fw={600}>{user.username}</Table.Td>
                      <Table.Td>{user.email ?? '—'}</Table.Td>
                      <Table.Td>{user.admin ? <Badge color="grape">Admin</Badge> : 'User'}</Table.Td>
                      <Table.Td>
                        {user.disabled ? (
                          <Badge color="red">Disabled</Badge>
                        ) : (
                          <Badge color="teal" variant="light">
                            Active
                          </Badge>
                        )}
                      </Table.Td>
                      <Table.Td>
                        <NameBadges names={user.groups} color="blue" />
                      </Table.Td>
                      <Table.Td>
                        <Group gap={4} wrap="nowrap">
                          <EditRowButton label={`Edit user ${user.username}`} onClick={() => edit(user)} />
                          <DeleteRowButton
                            kind="users"
                            noun="user"
                            name={user.username}
                            consequence="The user, their access tokens, group memberships and permission grants go at once."
                            refusedBecause={user.username === me?.username ? 'You cannot delete your own account' : undefined}
                          />
                        </Group>
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          )
        }
      </QueryState>
      <Modal opened={opened} onClose={close} title={editing ? `Edit user ${editing.username}` : 'New user'}>
        <UserForm key={editing?.username ?? ''} user={editing} self={editing !== null && editing.username === me?.username} onDone={close} />
      </Modal>
    </>
  );
}

/** Creates a user (`user` null) or changes one; the modal mounts it afresh each time it opens. */
function UserForm({ user, self, onDone }: { user: User | null; self: boolean; onDone: () => void }) {
  const groups = useGroups();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [email, setEmail] = useState(user?.email ?? '');
  const [admin, setAdmin] = useState(user?.admin ?? false);
  const [disabled, setDisabled] = useState(user?.disabled ?? false);
  const [memberOf, setMemberOf] = useState<string[]>(user?.groups ?? []);
  const nameError = securityNameError(username);
  const groupNames = [...new Set([...(groups.data ?? []).map((g) => g.name), ...memberOf])].sort();

  const save = useSecurityChange(
    () =>
      user
        ? send('POST', securityPath('users', user.username), {
            email: email.trim() || null,
            admin,
            disabled,
            groups: memberOf,
            ...(password ? { password } : {}),
          })
        : send('PUT', securityPath('users', username), { password, email: email.trim() || undefined, admin, disabled, groups: memberOf }),
    user ? `User ${user.username} saved` : `User ${username} created`,
    onDone,
  );

  return (
    <ModalForm onSubmit={() => !nameError && save.mutate()} onCancel={onDone} submitLabel={user ? 'Save' : 'Create user'} pending={save.isPending} error={save.error}>
      {!user && (
        <TextInput
          label="Username"
          required
          data-autofocus
          autoComplete="off"
          value={username}
          onChange={(e) => setUsername(e.currentTarget.value)}
          error={nameError}
          description="Lowercase letters, digits, “.”, “_”, “@” and “-”"
        />
      )}
      <PasswordInput
        label={user ? 'New password' : 'Password'}
        required={!user}
        autoComplete="new-password"
        minLength={PASSWORD_MIN_LENGTH}
        maxLength={PASSWORD_MAX_LENGTH}
        value={password}
        onChange={(e) => setPassword(e.currentTarget.value)}
        description={user ? `Leave empty to keep the current one; at least ${PASSWORD_MIN_LENGTH} characters` : `At least ${PASSWORD_MIN_LENGTH} characters`}
      />
      <TextInput label="Email" type="email" autoComplete="off" maxLength={255} value={email} onChange={(e) => setEmail(e.currentTarget.value)} />
      <MultiSelect
        label="Groups"
        data={groupNames}
        value={memberOf}
        onChange={setMemberOf}
        searchable
        clearable
        nothingFoundMessage={groups.isPending ? 'Loading groups…' : 'No such group'}
        description={groups.error ? `Groups could not be loaded: ${groups.error.message}` : groupNames.length === 0 ? 'No groups yet: create them on the Groups page' : undefined}
      />
      <Checkbox
        label="Administrator"
        description={self ? 'You cannot remove your own admin rights' : 'Manages repositories, users, groups and permissions; may do everything'}
        checked={admin}
        disabled={self}
        onChange={(e) => setAdmin(e.currentTarget.checked)}
      />
      <Checkbox
        label="Disabled"
        description={self ? 'You cannot disable your own account' : 'Cannot sign in; their access tokens stop working'}
        checked={disabled}
        disabled={self}
        onChange={(e) => setDisabled(e.currentTarget.checked)}
      />
    </ModalForm>
  );
}
