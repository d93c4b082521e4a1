import { ActionIcon, Alert, Text, Tooltip } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { IconPencil, IconTrash } from '@tabler/icons-react';
import { send } from '../api/client';
import { ConfirmDeleteModal } from '../components/confirm-delete-modal';
import { securityPath, useSecurityChange } from './security-api';

/** The pencil of a table row; `label` names what it edits, e.g. "Edit user alice". */
export function EditRowButton({ label, onClick }: { label: string; onClick: () => void }) {
  return (
    <Tooltip label={label}>
      <ActionIcon variant="subtle" aria-label={label} onClick={onClick}>
        <IconPencil size={16} />
      </ActionIcon>
    </Tooltip>
  );
}

/**
 * The bin of a table row: asks first, then DELETEs /api/security/{kind}/{name}. With
 * `refusedBecause`, the button stays but only says why it cannot be used (e.g. one's own account).
 */
export function DeleteRowButton({
  kind,
  noun,
  name,
  consequence,
  refusedBecause,
}: {
  kind: 'users' | 'groups' | 'permissions';
  noun: string;
  name: string;
  consequence: string;
  refusedBecause?: string;
}) {
  const [opened, { open, close }] = useDisclosure();
  const remove = useSecurityChange(() => send('DELETE', securityPath(kind, name)), `${capitalize(noun)} ${name} deleted`, close);
  const dismiss = () => {
    remove.reset();
    close();
  };
  const label = `Delete ${noun} ${name}`;
  if (refusedBecause)
    return (
      <Tooltip label={refusedBecause}>
        <ActionIcon variant="subtle" color="red" aria-label={`${label}: ${refusedBecause}`} aria-disabled data-disabled onClick={(e) => e.preventDefault()}>
          <IconTrash size={16} />
        </ActionIcon>
      </Tooltip>
    );
  return (
    <>
      <Tooltip label={label}>
        <ActionIcon variant="subtle" color="red" aria-label={label} onClick={open}>
          <IconTrash size={16} />
        </ActionIcon>
      </Tooltip>
      <ConfirmDeleteModal
        opened={opened}
        onClose={dismiss}
        title={`Delete ${noun} ${name}?`}
        confirmLabel={`Delete ${noun}`}
        pending={remove.isPending}
        onConfirm={() => remove.mutate()}
      >
        <Text>{consequence}</Text>
        {remove.error && (
          <Alert color="red" title="Not deleted" role="alert">
            {remove.error.message}
          </Alert>
        )}
      </ConfirmDeleteModal>
    </>
  );
}

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
