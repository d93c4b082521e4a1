import { Alert, Button, Checkbox, Group, NumberInput, PasswordInput, SegmentedControl, Select, Stack, Text, TextInput, Textarea, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { FormEvent, useState } from 'react';
import { useNavigate, useParams } from 'react-router';
import { send } from '../api/client';
import { useRepositories, useRepository } from '../api/queries';
import type { Repository, RepositoryClass } from '../api/types';
import { QueryState } from '../components/query-state';
import { MemberOrder } from './member-order';

/** Create (/admin/repositories/new) or edit (/admin/repositories/<key>/edit) a repository of any kind. */
export default function RepositoryFormPage() {
  const key = useParams().key;
  const existing = useRepository(key ?? '', key !== undefined);
  if (!key) return <RepositoryForm />;
  return (
    <QueryState isPending={existing.isPending} error={existing.error}>
      {() => <RepositoryForm existing={existing.data} />}
    </QueryState>
  );
}

type Fields = Record<string, any>;

const DEFAULTS: Fields = {
  description: '',
  anonymousRead: false,
  allowTagOverwrite: true,
  maxUniqueTags: 0,
  quotaBytes: 0,
  untaggedManifestDays: 0,
  mustUseAuthTokenForPush: false,
  url: 'https://registry-1.docker.io',
  username: '',
  password: '',
  libraryPrefix: true,
  offline: false,
  cacheRetentionDays: 0,
  maxCacheBytes: 0,
  repositories: [],
  defaultDeploymentRepo: null,
  includesPattern: '**',
  excludesPattern: '',
};

const KIND_FIELDS: Record<RepositoryClass, string[]> = {
  local: ['allowTagOverwrite', 'maxUniqueTags', 'quotaBytes', 'untaggedManifestDays', 'mustUseAuthTokenForPush'],
  remote: ['url', 'username', 'password', 'libraryPrefix', 'offline', 'cacheRetentionDays', 'maxCacheBytes', 'includesPattern', 'excludesPattern'],
  virtual: ['repositories', 'defaultDeploymentRepo', 'includesPattern', 'excludesPattern'],
};

function RepositoryForm({ existing }: { existing?: Repository }) {
  const navigate = useNavigate();
  const queries = useQueryClient();
  const all = useRepositories();
  const [key, setKey] = useState(existing?.key ?? '');
  const [rclass, setRclass] = useState<RepositoryClass>(existing?.rclass ?? 'local');
  const [fields, setFields] = useState<Fields>({ ...DEFAULTS, ...existing, password: '' });
  const [adding, setAdding] = useState<string | null>(null);
  const set = (name: string) => (value: unknown) => setFields((current) => ({ ...current, [name]: value }));

  const save = useMutation({
    mutationFn: () => {
      const body: Fields = { description: fields.description, anonymousRead: fields.anonymousRead };
      for (const name of KIND_FIELDS[rclass]) body[name] = fields[name];
      // A blank password field keeps the stored one.
      if (rclass === 'remote' && !fields.password) delete body.password;
      const path = `/api/repositories/${encodeURIComponent(existing?.key ?? key)}`;
      return existing ? send<Repository>('POST', path, body) : send<Repository>('PUT', path, { ...body, rclass, packageType: 'docker' });
    },
    onSuccess: (saved) => {
      queries.invalidateQueries({ queryKey: ['repositories'] });
      notifications.show({ color: 'green', message: `Repository ${saved.key} ${existing ? 'saved' : 'created'}` });
      navigate(`/repositories/${encodeURIComponent(saved.key)}`);
    },
  });

  function submit(event: FormEvent) {
    event.preventDefault();
    save.mutate();
  }

  const members: string[] = fields.repositories;
  const candidates = (all.data ?? [])
    .filter((r) => r.key !== existing?.key && r.key !== key && !members.includes(r.key))
    .map((r) => ({ value: r.key, label: `${r.key} (${r.rclass})` }));
  const localMembers = members.filter((m) => all.data?.find((r) => r.key === m)?.rclass === 'local');

  return (
    <form onSubmit={submit}>
      <Stack maw={640}>
        <Title order={1} size="h2">
          {existing ? `Edit ${existing.key}` : 'New repository'}
        </Title>
        {!existing && (
          <>
            <SegmentedControl
              aria-label="Kind"
              value={rclass}
              onChange={(value) => setRclass(value as RepositoryClass)}
              data={[
                { value: 'local', label: 'Local' },
                { value: 'remote', label: 'Remote (cache)' },
                { value: 'virtual', label: 'Virtual' },
              ]}
            />
            <TextInput label="Key" description="Clients use it in image names: host/<key>/<image>" required value={key} onChange={(e) => setKey(e.currentTarget.value)} />
          </>
        )}
        <Textarea label="Description" value={fields.description} onChange={(e) => set('description')(e.currentTarget.value)} autosize minRows={1} />
        <Checkbox label="Anyone may pull, signed in or not" checked={fields.anonymousRead} onChange={(e) => set('anonymousRead')(e.currentTarget.checked)} />

        {rclass === 'local' && (
          <>
            <Checkbox
              label="Tags may move to other content and be deleted"
              checked={fields.allowTagOverwrite}
              onChange={(e) => set('allowTagOverwrite')(e.currentTarget.checked)}
            />
            <Checkbox label="Pushes only with an access token" checked={fields.mustUseAuthTokenForPush} onChange={(e) => set('mustUseAuthTokenForPush')(e.currentTarget.checked)} />
            <NumberInput label="Tags kept per image" description="The oldest go first; 0 keeps all" min={0} value={fields.maxUniqueTags} onChange={set('maxUniqueTags')} />
            <NumberInput label="Quota in bytes" description="0 is no quota" min={0} value={fields.quotaBytes} onChange={set('quotaBytes')} />
            <NumberInput
              label="Days before untagged manifests are collected"
              description="0 is never"
              min={0}
              value={fields.untaggedManifestDays}
              onChange={set('untaggedManifestDays')}
            />
          </>
        )}

        {rclass === 'remote' && (
          <>
            <TextInput label="Upstream registry URL" required value={fields.url} onChange={(e) => set('url')(e.currentTarget.value)} />
            <Group grow>
              <TextInput label="Upstream user name" value={fields.username} onChange={(e) => set('username')(e.currentTarget.value)} autoComplete="off" />
              <PasswordInput
                label="Upstream password or token"
                description={existing?.password ? 'Leave blank to keep the stored one' : undefined}
                value={fields.password}
                onChange={(e) => set('password')(e.currentTarget.value)}
                autoComplete="new-password"
              />
            </Group>
            <Checkbox label="One-word names are official images (library/<name>)" checked={fields.libraryPrefix} onChange={(e) => set('libraryPrefix')(e.currentTarget.checked)} />
            <Checkbox label="Offline: serve only what is cached" checked={fields.offline} onChange={(e) => set('offline')(e.currentTarget.checked)} />
            <NumberInput
              label="Forget content not pulled for this many days"
              description="0 keeps it"
              min={0}
              value={fields.cacheRetentionDays}
              onChange={set('cacheRetentionDays')}
            />
            <NumberInput label="Cache size limit in bytes" description="0 is no limit" min={0} value={fields.maxCacheBytes} onChange={set('maxCacheBytes')} />
          </>
        )}

        {rclass === 'virtual' && (
          <>
            <div>
              <Text fw={500} size="sm" mb={4}>
                Members, in resolution order
              </Text>
              <MemberOrder members={members} onChange={set('repositories')} />
            </div>
            <Group align="flex-end">
              <Select label="Add a member" data={candidates} value={adding} onChange={setAdding} searchable clearable />
              <Button
                variant="default"
                disabled={!adding}
                onClick={() => {
                  if (adding) set('repositories')([...members, adding]);
                  setAdding(null);
                }}
              >
                Add
              </Button>
            </Group>
            <Select
              label="Deployment target"
              description="The local member that receives pushes to this virtual"
              data={localMembers}
              value={fields.defaultDeploymentRepo}
              onChange={set('defaultDeploymentRepo')}
              clearable
            />
          </>
        )}

        {rclass !== 'local' && (
          <Group grow>
            <TextInput
              label="Include patterns"
              description="Comma-separated; * within a segment, ** across"
              value={fields.includesPattern}
              onChange={(e) => set('includesPattern')(e.currentTarget.value)}
            />
            <TextInput label="Exclude patterns" value={fields.excludesPattern} onChange={(e) => set('excludesPattern')(e.currentTarget.value)} />
          </Group>
        )}

        {save.error && (
          <Alert color="red" role="alert" title="Not saved">
            {save.error.message}
          </Alert>
        )}
        <Group>
          <Button type="submit" loading={save.isPending}>
            {existing ? 'Save' : 'Create repository'}
          </Button>
          <Button variant="default" onClick={() => navigate(-1)}>
            Cancel
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
