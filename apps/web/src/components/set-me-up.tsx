import { Alert, Anchor, Button, Group, List, Stack, Tabs, Text, TextInput, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import { send } from '../api/client';
import { useSystemInfo } from '../api/queries';
import type { CreatedAccessToken, Repository } from '../api/types';
import { useSession } from '../session';
import { formatDate } from '../format';
import { setMeUpCommands } from './set-me-up-commands';
import { CopyCode } from './copy-code';

const TOKEN_DAYS = 30;

/** Artifactory's "Set Me Up": the exact commands for this server and repository, ready to copy. */
export function SetMeUp({ repo }: { repo: Repository }) {
  const info = useSystemInfo();
  const { user } = useSession();
  const [image, setImage] = useState(repo.rclass === 'remote' ? 'alpine' : 'my-app');
  const [tag, setTag] = useState('latest');
  const [token, setToken] = useState<CreatedAccessToken | null>(null);
  const canPush = repo.rclass === 'local' || (repo.rclass === 'virtual' && !!repo.defaultDeploymentRepo);

  const createToken = useMutation({
    mutationFn: () =>
      send<CreatedAccessToken>('POST', '/api/security/tokens', {
        name: `set-me-up ${repo.key} ${new Date().toISOString().slice(0, 10)}`,
        // A virtual's pulls read its members and its pushes write its deployment target.
        repositories: [...new Set([repo.key, ...(repo.resolvedRepositories ?? [])])],
        actions: canPush ? ['read', 'write'] : ['read'],
        expiresInSeconds: TOKEN_DAYS * 86400,
      }),
    onSuccess: setToken,
    onError: (err) => notifications.show({ color: 'red', title: 'No token created', message: err.message }),
  });

  if (!info.data) return null;
  const commands = setMeUpCommands({
    host: info.data.registryHost,
    tls: info.data.tls,
    repo,
    image: image.trim() || 'my-app',
    tag: tag.trim() || 'latest',
    username: user?.username ?? '<username>',
    secret: token?.token ?? '<access token>',
    canPush,
  });

  return (
    <Stack maw={900}>
      {!info.data.tls && (
        <Alert color="yellow" title="This server has no TLS">
          Clients refuse plain HTTP except for localhost. Add <code>{info.data.registryHost}</code> to <code>insecure-registries</code> in <code>/etc/docker/daemon.json</code> (and
          restart the daemon), and use <code>--tls-verify=false</code> with podman and skopeo, as the commands below do.
        </Alert>
      )}
      {repo.rclass === 'remote' && (
        <Alert color="blue" title="A pull-through cache">
          Pull upstream images through this repository: <code>{repo.url}</code>'s <code>{commands.upstreamExample}</code> is <code>{commands.pullName}</code> here.
          {repo.libraryPrefix ? ' One-word names are official images: Wharf asks the upstream for library/<name>.' : ''}
        </Alert>
      )}
      {repo.rclass === 'virtual' && (
        <Alert color="grape" title="A virtual repository">
          <Text size="sm">Pulls ask its members in this order, the first that has the image serves it:</Text>
          <List size="sm" type="ordered">
            {(repo.repositories ?? []).map((member) => (
              <List.Item key={member}>
                <Anchor component={Link} to={`/repositories/${encodeURIComponent(member)}?tab=setup`}>
                  {member}
                </Anchor>
              </List.Item>
            ))}
          </List>
          <Text size="sm">{repo.defaultDeploymentRepo ? `Pushes go to ${repo.defaultDeploymentRepo}.` : 'It has no deployment target: pushes are refused.'}</Text>
        </Alert>
      )}
      <Group align="flex-end">
        <TextInput label="Image" value={image} onChange={(e) => setImage(e.currentTarget.value)} />
        <TextInput label="Tag" value={tag} onChange={(e) => setTag(e.currentTarget.value)} w={140} />
      </Group>
      <section aria-labelledby="setup-credentials">
        <Title order={2} size="h4" id="setup-credentials" mb="xs">
          Credentials
        </Title>
        {user ? (
          token ? (
            <Alert color="green" title="Access token created">
              It is in the commands below and is shown only now: copy what you need. It expires on {formatDate(token.expiresAt)}; revoke it under{' '}
              <Anchor component={Link} to="/tokens">
                Access tokens
              </Anchor>
              .
            </Alert>
          ) : (
            <Group>
              <Button onClick={() => createToken.mutate()} loading={createToken.isPending}>
                Create an access token for these commands
              </Button>
              <Text size="sm" c="gray.7">
                Scoped to {repo.key}, {canPush ? 'read and write' : 'read only'}, {TOKEN_DAYS} days. Clients and CI should use tokens, not your password.
              </Text>
            </Group>
          )
        ) : (
          <Text size="sm">
            <Anchor component={Link} to={`/sign-in?next=${encodeURIComponent(`/repositories/${repo.key}?tab=setup`)}`}>
              Sign in
            </Anchor>{' '}
            to create an access token for these commands{repo.anonymousRead ? '; pulls need no credentials here' : ''}.
          </Text>
        )}
      </section>
      <Tabs defaultValue="docker">
        <Tabs.List>
          {commands.sections.map((section) => (
            <Tabs.Tab key={section.id} value={section.id}>
              {section.title}
            </Tabs.Tab>
          ))}
        </Tabs.List>
        {commands.sections.map((section) => (
          <Tabs.Panel key={section.id} value={section.id} pt="md">
            <Stack>
              {section.steps.map((step) => (
                <div key={step.label}>
                  <Text fw={600} size="sm" mb={4}>
                    {step.label}
                  </Text>
                  <CopyCode value={step.command} label={`${section.title}: ${step.label}`} />
                </div>
              ))}
            </Stack>
          </Tabs.Panel>
        ))}
      </Tabs>
    </Stack>
  );
}
