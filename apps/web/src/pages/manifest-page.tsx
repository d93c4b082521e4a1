import { Accordion, Anchor, Badge, Code, Group, Stack, Table, Text, Title } from '@mantine/core';
import { ReactNode } from 'react';
import { Link, useNavigate } from 'react-router';
import { useManifest, useRepository, useSystemInfo } from '../api/queries';
import type { ImageConfig, ManifestDetail } from '../api/types';
import { ImageBreadcrumbs } from '../components/breadcrumbs';
import { CopyCode } from '../components/copy-code';
import { DeleteTagButton } from '../components/delete-tag-button';
import { PromoteButton } from '../components/promote-button';
import { QueryState } from '../components/query-state';
import { formatBytes, formatDate, imagePath, shortDigest } from '../format';
import { useSession } from '../session';

export function ManifestPage({ repoKey, image, reference }: { repoKey: string; image: string; reference: string }) {
  const manifest = useManifest(repoKey, image, reference);
  const repository = useRepository(repoKey);
  const info = useSystemInfo();
  const { user } = useSession();
  const navigate = useNavigate();
  const isTag = !reference.includes(':');
  const mayDelete = repository.data?.actions?.includes('delete') ?? false;

  return (
    <Stack>
      <ImageBreadcrumbs repoKey={repoKey} image={image} reference={reference} />
      <QueryState isPending={manifest.isPending} error={manifest.error}>
        {() => {
          const m = manifest.data!;
          return (
            <>
              <Group justify="space-between" align="flex-start">
                <Title order={1} size="h2" style={{ wordBreak: 'break-all' }}>
                  {image}
                  {isTag ? `:${reference}` : `@${shortDigest(reference)}`}
                </Title>
                <Group>
                  {user && <PromoteButton repoKey={repoKey} image={image} tag={isTag ? reference : m.tags[0]} />}
                  {isTag && mayDelete && <DeleteTagButton repoKey={repoKey} image={image} tag={reference} onDeleted={() => navigate(imagePath(repoKey, image))} />}
                </Group>
              </Group>
              {info.data && <CopyCode value={`docker pull ${info.data.registryHost}/${repoKey}/${image}@${m.digest}`} label="pull by digest command" />}
              <Facts manifest={m} />
              {m.children.length > 0 && <Children manifest={m} repoKey={repoKey} />}
              {m.config && <Config config={m.config} />}
              {m.layers.length > 0 && <Layers manifest={m} />}
              {m.config?.history?.length ? <History history={m.config.history} /> : null}
              {m.referrers.length > 0 && <Referrers manifest={m} repoKey={repoKey} />}
              {m.promotions.length > 0 && <Promotions manifest={m} />}
            </>
          );
        }}
      </QueryState>
    </Stack>
  );
}

function Section({ title, children }: { title: string; children: ReactNode }) {
  const id = `section-${title.toLowerCase().replaceAll(' ', '-')}`;
  return (
    <section aria-labelledby={id}>
      <Title order={2} size="h4" id={id} mb="xs">
        {title}
      </Title>
      {children}
    </section>
  );
}

function KeyValues({ rows, label }: { rows: [string, ReactNode][]; label: string }) {
  return (
    <Table variant="vertical" withTableBorder aria-label={label} maw={900}>
      <Table.Tbody>
        {rows.map(([name, value]) => (
          <Table.Tr key={name}>
            <Table.Th w={180}>{name}</Table.Th>
            <Table.Td style={{ wordBreak: 'break-all' }}>{value}</Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

function Facts({ manifest: m }: { manifest: ManifestDetail }) {
  const rows: [string, ReactNode][] = [
    ['Digest', <Code key="d">{m.digest}</Code>],
    ['Media type', m.mediaType],
    ['Manifest size', formatBytes(m.size)],
  ];
  if (m.layers.length > 0) rows.push(['Image size', formatBytes(m.layers.reduce((sum, layer) => sum + layer.size, (m.config?.size ?? 0) + m.size))]);
  if (m.artifactType) rows.push(['Artifact type', m.artifactType]);
  if (m.subject) rows.push(['Refers to', <Code key="s">{m.subject}</Code>]);
  rows.push([
    'Tags',
    m.tags.length
      ? m.tags.map((tag) => (
          <Badge key={tag} variant="light" mr={4} tt="none">
            {tag}
          </Badge>
        ))
      : 'none',
  ]);
  if (m.servedBy !== m.repository) rows.push(['Served by', m.servedBy]);
  for (const [name, value] of Object.entries(m.annotations ?? {})) rows.push([name, value]);
  return <KeyValues rows={rows} label="Manifest" />;
}

function Children({ manifest: m, repoKey }: { manifest: ManifestDetail; repoKey: string }) {
  return (
    <Section title="Platforms">
      <Table.ScrollContainer minWidth={480}>
        <Table striped aria-label="Platforms">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Platform</Table.Th>
              <Table.Th>Manifest</Table.Th>
              <Table.Th ta="right">Size</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {m.children.map((child) => (
              <Table.Tr key={child.digest}>
                <Table.Td>{child.platform ?? 'unknown'}</Table.Td>
                <Table.Td>
                  <Anchor component={Link} to={imagePath(repoKey, m.image, child.digest)} ff="monospace" size="sm">
                    {shortDigest(child.digest)}
                  </Anchor>
                </Table.Td>
                <Table.Td ta="right">{formatBytes(child.size)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    </Section>
  );
}

const list = (values?: string[]) => (values?.length ? <Code>{JSON.stringify(values)}</Code> : '—');

function Config({ config }: { config: ImageConfig }) {
  const platform = [config.os, config.architecture, config.variant].filter(Boolean).join('/');
  const rows: [string, ReactNode][] = [
    ['Platform', platform || '—'],
    ['Created', formatDate(config.created)],
    ['Entrypoint', list(config.entrypoint)],
    ['Command', list(config.cmd)],
  ];
  if (config.workingDir) rows.push(['Working directory', config.workingDir]);
  if (config.user) rows.push(['User', config.user]);
  if (config.exposedPorts?.length) rows.push(['Exposed ports', config.exposedPorts.join(', ')]);
  if (config.env?.length)
    rows.push([
      'Environment',
      <Code key="env" block>
        {config.env.join('\n')}
      </Code>,
    ]);
  for (const [name, value] of Object.entries(config.labels ?? {})) rows.push([`Label ${name}`, value]);
  rows.push(['Config blob', `${shortDigest(config.digest)} (${formatBytes(config.size)})`]);
  return (
    <Section title="Configuration">
      <KeyValues rows={rows} label="Configuration" />
    </Section>
  );
}

function Layers({ manifest: m }: { manifest: ManifestDetail }) {
  return (
    <Section title="Layers">
      <Table.ScrollContainer minWidth={560}>
        <Table striped aria-label="Layers">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>#</Table.Th>
              <Table.Th>Digest</Table.Th>
              <Table.Th>Media type</Table.Th>
              <Table.Th ta="right">Size</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {m.layers.map((layer, index) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: a manifest may list one layer twice; the list never reorders
              <Table.Tr key={`${index}-${layer.digest}`}>
                <Table.Td>{index + 1}</Table.Td>
                <Table.Td ff="monospace" title={layer.digest}>
                  {shortDigest(layer.digest)}
                </Table.Td>
                <Table.Td>{layer.mediaType}</Table.Td>
                <Table.Td ta="right">{formatBytes(layer.size)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    </Section>
  );
}

function History({ history }: { history: NonNullable<ImageConfig['history']> }) {
  return (
    <Accordion variant="separated">
      <Accordion.Item value="history">
        <Accordion.Control>Build history ({history.length} steps)</Accordion.Control>
        <Accordion.Panel>
          <Table aria-label="History">
            <Table.Tbody>
              {history.map((step, index) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: history steps have no identity of their own; the list never reorders
                <Table.Tr key={`${index}-${step.created}`}>
                  <Table.Td w={180}>{formatDate(step.created)}</Table.Td>
                  <Table.Td ff="monospace" style={{ wordBreak: 'break-all' }}>
                    {step.createdBy ?? step.comment ?? ''}
                    {step.emptyLayer ? ' (no layer)' : ''}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Accordion.Panel>
      </Accordion.Item>
    </Accordion>
  );
}

function Referrers({ manifest: m, repoKey }: { manifest: ManifestDetail; repoKey: string }) {
  return (
    <Section title="Referrers">
      <Text size="sm" c="gray.7" mb="xs">
        Signatures, SBOMs and attestations attached to this manifest.
      </Text>
      <Table striped aria-label="Referrers">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Artifact type</Table.Th>
            <Table.Th>Manifest</Table.Th>
            <Table.Th ta="right">Size</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {m.referrers.map((referrer) => (
            <Table.Tr key={referrer.digest}>
              <Table.Td>{referrer.artifactType ?? referrer.mediaType}</Table.Td>
              <Table.Td>
                <Anchor component={Link} to={imagePath(repoKey, m.image, referrer.digest)} ff="monospace" size="sm">
                  {shortDigest(referrer.digest)}
                </Anchor>
              </Table.Td>
              <Table.Td ta="right">{formatBytes(referrer.size)}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Section>
  );
}

function Promotions({ manifest: m }: { manifest: ManifestDetail }) {
  return (
    <Section title="Promotions">
      <Table striped aria-label="Promotions">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>When</Table.Th>
            <Table.Th>From</Table.Th>
            <Table.Th>To</Table.Th>
            <Table.Th>By</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {m.promotions.map((p) => (
            <Table.Tr key={p.id}>
              <Table.Td>{formatDate(p.createdAt)}</Table.Td>
              <Table.Td>
                {p.sourceRepository}/{p.sourceImage}
              </Table.Td>
              <Table.Td>
                {p.targetRepository}/{p.targetImage} {p.copy ? '(copy)' : '(move)'}
              </Table.Td>
              <Table.Td>{p.username ?? '—'}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Section>
  );
}
