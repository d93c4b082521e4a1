import { AppShell, Burger, Button, Group, Menu, NavLink, Text, UnstyledButton } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { notifications } from '@mantine/notifications';
import { IconAnchor, IconBox, IconChevronDown, IconDatabase, IconKey, IconLock, IconUser, IconUsersGroup } from '@tabler/icons-react';
import { Link, Outlet, useLocation, useNavigate } from 'react-router';
import { useSession } from '../session';

export function Layout() {
  const [opened, { toggle, close }] = useDisclosure();
  const { user, signOut } = useSession();
  const location = useLocation();
  const navigate = useNavigate();
  const at = (path: string) => location.pathname === path || location.pathname.startsWith(`${path}/`);

  const nav = (label: string, path: string, icon: React.ReactNode) => (
    <NavLink key={path} component={Link} to={path} label={label} leftSection={icon} active={at(path)} onClick={close} />
  );

  async function leave() {
    await signOut();
    notifications.show({ message: 'Signed out' });
    navigate('/repositories');
  }

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
            <Menu position="bottom-end">
              <Menu.Target>
                <Button variant="subtle" rightSection={<IconChevronDown size={14} />} leftSection={<IconUser size={16} />}>
                  {user.username}
                </Button>
              </Menu.Target>
              <Menu.Dropdown>
                <Menu.Item component={Link} to="/tokens">
                  Access tokens
                </Menu.Item>
                <Menu.Item onClick={leave}>Sign out</Menu.Item>
              </Menu.Dropdown>
            </Menu>
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
