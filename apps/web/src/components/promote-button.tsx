import { Alert, Button, Group, Modal, Select, Stack, Switch, Text, TextInput } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { notifications } from '@mantine/notifications';
import { IconArrowBigUpLines } from '@tabler/icons-react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { send } from '../api/client';
import { useRepositories } from '../api/queries';
import type { PromotionResult } from '../api/types';

/** Promotion (POST /api/docker/<key>/v2/promote) of one tag, with a dry run first if the user wants. */
export function PromoteButton({ repoKey, image, tag }: { repoKey: string; image: string; tag?: string }) {
  const [opened, { open, close }] = useDisclosure();
  const repositories = useRepositories();
  const queries = useQueryClient();
  const [target, setTarget] = useState<string | null>(null);
  const [targetImage, setTargetImage] = useState(image);
  const [targetTag, setTargetTag] = useState(tag ?? '');
  const [copy, setCopy] = useState(true);
  const [result, setResult] = useState<PromotionResult | null>(null);

  const targets = (repositories.data ?? [])
    .filter((r) => r.key !== repoKey && (r.rclass === 'local' || (r.rclass === 'virtual' && r.defaultDeploymentRepo)) && (r.actions?.includes('write') ?? true))
    .map((r) => r.key);

  const promote = useMutation({
    mutationFn: (dryRun: boolean) =>
      send<PromotionResult>('POST', `/api/docker/${encodeURIComponent(repoKey)}/v2/promote`, {
        targetRepo: target,
        dockerRepository: image,
        targetDockerRepository: targetImage.trim() || undefined,
        tag,
        targetTag: tag && targetTag.trim() ? targetTag.trim() : undefined,
        copy,
        dryRun,
      }),
    onSuccess: (outcome) => {
      setResult(outcome);
      if (!outcome.dryRun) {
        queries.invalidateQueries();
        notifications.show({ color: 'green', message: `Promoted to ${outcome.target.deployedTo}/${outcome.target.image}` });
      }
    },
  });

  return (
    <>
      <Button variant="light" leftSection={<IconArrowBigUpLines size={16} />} onClick={open}>
        Promote
      </Button>
      <Modal opened={opened} onClose={close} title={`Promote ${image}${tag ? `:${tag}` : ''}`}>
        <Stack>
          <Select label="Target repository" data={targets} value={target} onChange={setTarget} searchable required nothingFoundMessage="No repository you may write to" />
          <TextInput label="Target image" value={targetImage} onChange={(e) => setTargetImage(e.currentTarget.value)} />
          {tag && <TextInput label="Target tag" value={targetTag} onChange={(e) => setTargetTag(e.currentTarget.value)} />}
          <Switch label="Copy (off: move, removing the tag here)" checked={copy} onChange={(e) => setCopy(e.currentTarget.checked)} />
          {promote.error && (
            <Alert color="red" role="alert">
              {promote.error.message}
            </Alert>
          )}
          {result && (
            <Alert color={result.dryRun ? 'blue' : 'green'} title={result.dryRun ? 'Dry run: nothing changed' : 'Promoted'} role="status">
              <Text size="sm">
                {result.tags.map((t) => `${t.source} → ${result.target.deployedTo}/${result.target.image}:${t.target}`).join(', ')}; {result.manifests} manifest(s),{' '}
                {result.referrers} referrer(s), {result.blobsLinked} blob(s) linked.
              </Text>
            </Alert>
          )}
          <Group justify="flex-end">
            <Button variant="default" disabled={!target} loading={promote.isPending && promote.variables === true} onClick={() => promote.mutate(true)}>
              Dry run
            </Button>
            <Button disabled={!target} loading={promote.isPending && promote.variables === false} onClick={() => promote.mutate(false)}>
              {copy ? 'Copy' : 'Move'}
            </Button>
          </Group>
        </Stack>
      </Modal>
    </>
  );
}
