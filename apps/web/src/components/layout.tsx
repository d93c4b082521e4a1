import { AppShell, Burger, Button, Group, NavLink, Text, UnstyledButton } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { IconAnchor, IconBox, IconDatabase, IconKey, IconLock, IconUser, IconUsersGroup } from '@tabler/icons-react';
import { lazy, useState } from 'react';
import { Link, Outlet, useLocation } from 'react-router';
import { useSession } from '../session';
import { AfterFirstRender } from './after-first-render';
import { UserButton } from './user-button';

const UserMenu = lazy(() => import('./user-menu'));

export function Layout() {
  const [opened, { toggle, close }] = useDisclosure();
  const [menuAsked, setMenuAsked] = useState(false);
  const { user } = useSession();
  const location = useLocation();
  const at = (path: string) => location.pathname === path || location.pathname.startsWith(`${path}/`);

  const nav = (label: string, path: string, icon: React.ReactNode) => (
    <NavLink key={path} component={Link} to={path} label={label} leftSection={icon} active={at(path)} onClick={close} />
  );

  return (
    <AppShell header={{ height: 56 }} navbar={{ width: 220, breakpoint: 'sm', collapsed: { mobile: !opened } }} padding="md">
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="xs" wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Toggle navigation" />
            <UnstyledButton component={Link} to="/repositories" aria-label="Wharf home">
              <Group gap={6} wrap="nowrap">
                <IconAnchor size={24} aria-hidden />
                <Text fw={700} size="lg">
                  Wharf
                </Text>
              </Group>
            </UnstyledButton>
          </Group>
          {user ? (
            <AfterFirstRender fallback={<UserButton username={user.username} onClick={() => setMenuAsked(true)} />}>
              <UserMenu username={user.username} openAtOnce={menuAsked} />
            </AfterFirstRender>
          ) : (
            <Button component={Link} to={`/sign-in?next=${encodeURIComponent(location.pathname + location.search)}`} variant="light">
              Sign in
            </Button>
          )}
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" aria-label="Main" style={{ overflowY: 'auto' }}>
        {nav('Repositories', '/repositories', <IconBox size={18} />)}
        {user && nav('Access tokens', '/tokens', <IconKey size={18} />)}
        {user?.admin && (
          <>
            <Text size="xs" fw={700} c="gray.7" tt="uppercase" mt="md" mb={4} px="sm">
              Administration
            </Text>
            {nav('Users', '/admin/users', <IconUser size={18} />)}
            {nav('Groups', '/admin/groups', <IconUsersGroup size={18} />)}
            {nav('Permissions', '/admin/permissions', <IconLock size={18} />)}
            {nav('Storage', '/admin/storage', <IconDatabase size={18} />)}
          </>
        )}
      </AppShell.Navbar>
      <AppShell.Main>
        <Outlet />
      </AppShell.Main>
    </AppShell>
  );
}
