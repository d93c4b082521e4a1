import { Anchor, Button, Group, Modal, Table, Text, TextInput, Textarea, Title } from '@mantine/core';
import { IconPlus } from '@tabler/icons-react';
import { useState } from 'react';
import { Link } from 'react-router';
import { send } from '../api/client';
import type { Group as UserGroup } from '../api/types';
import { QueryState } from '../components/query-state';
import { ModalForm } from './modal-form';
import { DeleteRowButton, EditRowButton } from './row-actions';
import { securityNameError, securityPath, useGroups, useSecurityChange } from './security-api';
import { NameBadges } from '../components/name-badges';
import { useEditor } from './use-editor';

const DESCRIPTION_MAX_LENGTH = 1000;

export default function GroupsPage() {
  const groups = useGroups();
  const { opened, editing, edit, close } = useEditor<UserGroup>();

  return (
    <>
      <Group justify="space-between" mb="md">
        <Title order={1} size="h2">
          Groups
        </Title>
        <Button leftSection={<IconPlus size={16} />} onClick={() => edit(null)}>
          New group
        </Button>
      </Group>
      <Text mb="md" c="gray.7">
        Members are chosen on each user’s groups, on the{' '}
        <Anchor component={Link} to="/admin/users">
          Users
        </Anchor>{' '}
        page.
      </Text>
      <QueryState isPending={groups.isPending} error={groups.error}>
        {() =>
          groups.data!.length === 0 ? (
            <Text c="gray.7">No groups yet.</Text>
          ) : (
            <Table.ScrollContainer minWidth={560}>
              <Table striped highlightOnHover aria-label="Groups">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Group</Table.Th>
                    <Table.Th>Description</Table.Th>
                    <Table.Th>Members</Table.Th>
                    <Table.Th>Actions</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {groups.data!.map((group) => (
                    <Table.Tr key={group.name}>
                      <Table.Td fw={600}>{group.name}</Table.Td>
                      <Table.Td>{group.description || '—'}</Table.Td>
                      <Table.Td>
                        <NameBadges names={group.members} color="blue" />
                      </Table.Td>
                      <Table.Td>
                        <Group gap={4} wrap="nowrap">
                          <EditRowButton label={`Edit group ${group.name}`} onClick={() => edit(group)} />
                          <DeleteRowButton
                            kind="groups"
                            noun="group"
                            name={group.name}
                            consequence="The group, its memberships and the permission grants naming it go at once. Its members stay, without what the group gave them."
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
      <Modal opened={opened} onClose={close} title={editing ? `Edit group ${editing.name}` : 'New group'}>
        <GroupForm key={editing?.name ?? ''} group={editing} onDone={close} />
      </Modal>
    </>
  );
}

/** Creates a group (`group` null) or changes its description. */
function GroupForm({ group, onDone }: { group: UserGroup | null; onDone: () => void }) {
  const [name, setName] = useState('');
  const [description, setDescription] = useState(group?.description ?? '');
  const nameError = securityNameError(name);

  const save = useSecurityChange(
    () => send(group ? 'POST' : 'PUT', securityPath('groups', group ? group.name : name), { description: description.trim() }),
    group ? `Group ${group.name} saved` : `Group ${name} created`,
    onDone,
  );

  return (
    <ModalForm onSubmit={() => !nameError && save.mutate()} onCancel={onDone} submitLabel={group ? 'Save' : 'Create group'} pending={save.isPending} error={save.error}>
      {!group && (
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
      <Textarea
        label="Description"
        autosize
        minRows={2}
        maxLength={DESCRIPTION_MAX_LENGTH}
        value={description}
        onChange={(e) => setDescription(e.currentTarget.value)}
        data-autofocus={group ? true : undefined}
      />
    </ModalForm>
  );
}
