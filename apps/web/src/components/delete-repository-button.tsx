import { Button } from '@mantine/core';
import { IconTrash } from '@tabler/icons-react';
import { Suspense, lazy, useState } from 'react';

// The dialog (and Mantine's Modal with it) loads on the first click: it is not part of the repository page's first view.
const DeleteRepositoryDialog = lazy(() => import('./delete-repository-dialog'));

export function DeleteRepositoryButton({ repoKey }: { repoKey: string }) {
  const [opened, setOpened] = useState(false);
  // Once mounted, the dialog stays so that closing it can animate.
  const [asked, setAsked] = useState(false);
  return (
    <>
      <Button
        color="red"
        variant="light"
        leftSection={<IconTrash size={16} />}
        onClick={() => {
          setAsked(true);
          setOpened(true);
        }}
      >
        Delete
      </Button>
      {asked && (
        <Suspense fallback={null}>
          <DeleteRepositoryDialog repoKey={repoKey} opened={opened} onClose={() => setOpened(false)} />
        </Suspense>
      )}
    </>
  );
}
