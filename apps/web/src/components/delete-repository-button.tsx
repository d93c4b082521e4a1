import { Button, Group, Modal, Text } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { notifications } from '@mantine/notifications';
import { IconTrash } from '@tabler/icons-react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useNavigate } from 'react-router';
import { send } from '../api/client';

export function DeleteRepositoryButton({ repoKey }: { repoKey: string }) {
  const [opened, { open, close }] = useDisclosure();
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
    <>
      <Button color="red" variant="light" leftSection={<IconTrash size={16} />} onClick={open}>
        Delete
      </Button>
      <Modal opened={opened} onClose={close} title={`Delete ${repoKey}?`}>
        <Text mb="md">
          Its tags, manifests and links go at once, and it leaves every virtual repository. Blobs no other repository links are freed by the next garbage collection.
        </Text>
        <Group justify="flex-end">
          <Button variant="default" onClick={close}>
            Cancel
          </Button>
          <Button color="red" loading={remove.isPending} onClick={() => remove.mutate()}>
            Delete repository
          </Button>
        </Group>
      </Modal>
    </>
  );
}
