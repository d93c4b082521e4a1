import { ActionIcon, Button, Text, Tooltip } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { notifications } from '@mantine/notifications';
import { IconTrash } from '@tabler/icons-react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { apiPath, send } from '../api/client';
import { ConfirmDeleteModal } from './confirm-delete-modal';

export function DeleteTagButton({ repoKey, image, tag, compact, onDeleted }: { repoKey: string; image: string; tag: string; compact?: boolean; onDeleted?: () => void }) {
  const [opened, { open, close }] = useDisclosure();
  const queries = useQueryClient();
  const remove = useMutation({
    mutationFn: () => send('DELETE', apiPath(`/api/repositories/${encodeURIComponent(repoKey)}/tags`, { image, tag })),
    onSuccess: () => {
      close();
      queries.invalidateQueries({ queryKey: ['tags', repoKey, image] });
      queries.invalidateQueries({ queryKey: ['images', repoKey] });
      notifications.show({ color: 'green', message: `Tag ${image}:${tag} deleted` });
      onDeleted?.();
    },
    onError: (err) => notifications.show({ color: 'red', title: 'Tag not deleted', message: err.message }),
  });
  const label = `Delete tag ${tag}`;
  return (
    <>
      {compact ? (
        <Tooltip label={label}>
          <ActionIcon variant="subtle" color="red" aria-label={label} onClick={open}>
            <IconTrash size={16} />
          </ActionIcon>
        </Tooltip>
      ) : (
        <Button color="red" variant="light" leftSection={<IconTrash size={16} />} onClick={open}>
          Delete tag
        </Button>
      )}
      <ConfirmDeleteModal opened={opened} onClose={close} title={`Delete ${image}:${tag}?`} confirmLabel="Delete tag" pending={remove.isPending} onConfirm={() => remove.mutate()}>
        <Text>The tag goes; the manifest stays reachable by digest until retention or garbage collection removes it.</Text>
      </ConfirmDeleteModal>
    </>
  );
}
