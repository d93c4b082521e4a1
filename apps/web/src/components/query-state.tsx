import { Alert, Center, Loader } from '@mantine/core';
import { ReactNode } from 'react';

/** What a page shows while its data loads or when it could not: the API's own message. */
export function QueryState({ isPending, error, children }: { isPending: boolean; error: Error | null; children: () => ReactNode }) {
  if (error)
    return (
      <Alert color="red" title="Could not load" role="alert">
        {error.message}
      </Alert>
    );
  if (isPending)
    return (
      <Center h={120}>
        <Loader aria-label="Loading" />
      </Center>
    );
  return <>{children()}</>;
}
