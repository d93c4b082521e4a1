import { Text } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useNavigate } from 'react-router';
import { send } from '../api/client';
import { ConfirmDeleteModal } from './confirm-delete-modal';

/** The confirmation behind a repository's Delete button (loaded when first asked for, with Mantine's Modal). */
export default function DeleteRepositoryDialog({ repoKey, opened, onClose }: { repoKey: string; opened: boolean; onClose: () => void }) {
  const queries = useQueryClient();
  const navigate = useNavigate();
  const remove = useMutation({
    mutationFn: () => send('DELETE', `/api/repositories/${encodeURIComponent(repoKey)}`),
    onSuccess: () => {
      queries.invalidateQueries({ queryKey: ['repositories'] });
      notifications.show({ color: 'green', message: `Repository ${repoKey} deleted` });
      navigate('/repositories');
    },
    onError: (err) => notifications.show({ color: 'red', title: 'Not deleted', message: err.message }),
  });
  return (
    <ConfirmDeleteModal
      opened={opened}
      onClose={onClose}
      title={`Delete ${repoKey}?`}
      confirmLabel="Delete repository"
      pending={remove.isPending}
      onConfirm={() => remove.mutate()}
    >
      <Text>Its tags, manifests and links go at once, and it leaves every virtual repository. Blobs no other repository links are freed by the next garbage collection.</Text>
    </ConfirmDeleteModal>
  );
}
