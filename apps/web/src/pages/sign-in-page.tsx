import { Alert, Anchor, Button, Center, Group, Paper, PasswordInput, Stack, Text, TextInput, Title } from '@mantine/core';
import { IconAnchor } from '@tabler/icons-react';
import { FormEvent, useState } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { useSession } from '../session';

export function SignInPage() {
  const { signIn } = useSession();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await signIn(username, password);
      // Only paths inside the UI: `next` comes from the address bar.
      const next = params.get('next');
      navigate(next?.startsWith('/') && !next.startsWith('//') ? next : '/repositories', { replace: true });
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Center mih="100vh" p="md">
      <Paper component="form" onSubmit={submit} withBorder shadow="sm" p="xl" w={380} maw="100%" aria-labelledby="sign-in-title">
        <Stack>
          <Group gap={6}>
            <IconAnchor size={28} aria-hidden />
            <Title order={1} size="h2" id="sign-in-title">
              Sign in to Wharf
            </Title>
          </Group>
          {error && (
            <Alert color="red" role="alert">
              {error}
            </Alert>
          )}
          <TextInput label="Username" autoComplete="username" required value={username} onChange={(e) => setUsername(e.currentTarget.value)} data-autofocus autoFocus />
          <PasswordInput label="Password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.currentTarget.value)} />
          <Button type="submit" loading={busy}>
            Sign in
          </Button>
          <Text size="sm" c="gray.7">
            The first start prints the admin password in the server log.{' '}
            <Anchor component={Link} to="/repositories">
              Browse without signing in
            </Anchor>
          </Text>
        </Stack>
      </Paper>
    </Center>
  );
}
