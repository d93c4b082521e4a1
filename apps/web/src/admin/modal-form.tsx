import { Alert, Button, Group, Stack } from '@mantine/core';
import { ReactNode } from 'react';

/**
 * The body of a create or edit modal: the fields, the API's refusal (kept next to the fields so
 * they can be fixed), and Cancel / submit. Enter submits; `onSubmit` runs only when the browser's
 * own checks (required, minLength, type="email") pass.
 */
export function ModalForm({
  children,
  onSubmit,
  onCancel,
  submitLabel,
  pending,
  error,
}: {
  children: ReactNode;
  onSubmit: () => void;
  onCancel: () => void;
  submitLabel: string;
  pending: boolean;
  error: Error | null;
}) {
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        onSubmit();
      }}
    >
      <Stack>
        {children}
        {error && (
          <Alert color="red" title="Not saved" role="alert">
            {error.message}
          </Alert>
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={onCancel}>
            Cancel
          </Button>
          <Button type="submit" loading={pending}>
            {submitLabel}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
