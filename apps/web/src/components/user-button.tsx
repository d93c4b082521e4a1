import { Button, type ButtonProps } from '@mantine/core';
import { IconChevronDown, IconUser } from '@tabler/icons-react';
import { forwardRef } from 'react';

/** The signed-in user's button in the header; alone it is what shows until the menu's code has loaded. */
export const UserButton = forwardRef<HTMLButtonElement, ButtonProps & { username: string; onClick?: () => void }>(function UserButton({ username, ...props }, ref) {
  return (
    <Button ref={ref} variant="subtle" rightSection={<IconChevronDown size={14} />} leftSection={<IconUser size={16} />} {...props}>
      {username}
    </Button>
  );
});
