import { Button, Group, Modal, Stack } from '@mantine/core';
import type { ReactNode } from 'react';

/** The question before a deletion: what goes (children), Cancel, and the red button that does it. */
export function ConfirmDeleteModal({
  opened,
  onClose,
  title,
  confirmLabel,
  pending,
  onConfirm,
  children,
}: {
  opened: boolean;
  onClose: () => void;
  title: string;
  confirmLabel: string;
  pending: boolean;
  onConfirm: () => void;
  children: ReactNode;
}) {
  return (
    <Modal opened={opened} onClose={onClose} title={title}>
      <Stack>
        {children}
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button color="red" loading={pending} onClick={onConfirm}>
            {confirmLabel}
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
