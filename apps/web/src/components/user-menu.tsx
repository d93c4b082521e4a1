import { Menu } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { Link, useNavigate } from 'react-router';
import { useSession } from '../session';
import { UserButton } from './user-button';

/**
 * The user's menu (access tokens, sign out). Loaded after the page's first render (layout.tsx):
 * Mantine's Menu brings its popover positioning (floating-ui), whose state updates as it mounts
 * made React re-render and run every effect of the page before its first paint. A click on the
 * button before this code arrived opens the menu as it mounts (`openAtOnce`).
 */
export default function UserMenu({ username, openAtOnce }: { username: string; openAtOnce: boolean }) {
  const { signOut } = useSession();
  const navigate = useNavigate();

  async function leave() {
    await signOut();
    notifications.show({ message: 'Signed out' });
    navigate('/repositories');
  }

  return (
    <Menu position="bottom-end" defaultOpened={openAtOnce}>
      <Menu.Target>
        <UserButton username={username} />
      </Menu.Target>
      <Menu.Dropdown>
        <Menu.Item component={Link} to="/tokens">
          Access tokens
        </Menu.Item>
        <Menu.Item onClick={leave}>Sign out</Menu.Item>
      </Menu.Dropdown>
    </Menu>
  );
}
