import { useDisclosure } from '@mantine/hooks';
import { useState } from 'react';

/** A list page's modal: open it on one row to edit (or on null to create), close it. */
export function useEditor<T>() {
  const [opened, { open, close }] = useDisclosure();
  const [editing, setEditing] = useState<T | null>(null);
  const edit = (row: T | null) => {
    setEditing(row);
    open();
  };
  return { opened, editing, edit, close };
}
