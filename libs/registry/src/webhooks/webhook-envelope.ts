import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { PendingEventRow, WebhookEvent } from '@wharf/db';

/** The body's media type, as Distribution sends its notifications. */
export const ENVELOPE_MEDIA_TYPE = 'application/vnd.docker.distribution.events.v1+json';

/** Who sends: this host, as Distribution's `source` names the registry instance. */
export interface EventSource {
  addr: string;
  instanceID: string;
}

/** This process, for the life of it (Distribution's instanceID is per process too). */
const INSTANCE_ID = randomUUID();

/** The `source` of the events this host sends; `port` 0 (chosen at listen) is left out. */
export function thisSource(port: number): EventSource {
  return { addr: port ? `${hostname()}:${port}` : hostname(), instanceID: INSTANCE_ID };
}

/**
 * One event in the shape of Distribution's notification envelope (`{"events": [event]}`), so
 * receivers written for it work: `action` is push, pull or delete as there, and promote, quota
 * or gc for Wharf's own; `target.repository` is the name clients pull (`<repoKey>/<image>`).
 * Wharf's own fields are under `wharf`.
 */
export interface EnvelopeEvent {
  id: string;
  timestamp: string;
  action: WebhookEvent;
  target: {
    mediaType?: string;
    size?: number;
    length?: number;
    digest?: string;
    repository?: string;
    url?: string;
    tag?: string;
  };
  request: { id?: string; addr?: string; host?: string; method?: string; useragent?: string };
  actor: { name?: string };
  source: EventSource;
  wharf: {
    /** The audit log's action (`push`, `quota.exceeded`, ...) and row, when there is one. */
    action: string;
    auditId?: string;
    repositoryKey?: string;
    image?: string;
    details: Record<string, unknown>;
  };
}

/** What the envelope is built from: an audit row, or a pull noted in memory. */
export type EventFacts = Omit<PendingEventRow, 'id'> & { auditId?: string };

export function envelopeEvent(id: string, event: WebhookEvent, facts: EventFacts, source: EventSource, publicUrl?: string): EnvelopeEvent {
  const details = facts.details ?? {};
  const request = facts.request ?? {};
  const name = facts.repository && facts.image ? `${facts.repository}/${facts.image}` : (facts.repository ?? undefined);
  const origin = publicUrl ?? request.origin;
  const kind = details.kind === 'blob' ? 'blobs' : 'manifests';
  const size = typeof details.size === 'number' ? details.size : undefined;
  return {
    id,
    timestamp: new Date(facts.at).toISOString(),
    action: event,
    target: prune({
      mediaType: typeof details.mediaType === 'string' ? details.mediaType : undefined,
      size,
      length: size,
      digest: facts.digest ?? undefined,
      repository: name,
      url: origin && name && facts.digest && facts.image ? `${origin}/v2/${name}/${kind}/${facts.digest}` : undefined,
      tag: facts.tag ?? undefined,
    }),
    request: prune({ id: facts.requestId ?? undefined, addr: facts.address ?? undefined, host: request.host, method: request.method, useragent: request.userAgent }),
    actor: prune({ name: facts.username ?? undefined }),
    source,
    wharf: prune({
      action: facts.action,
      auditId: facts.auditId,
      repositoryKey: facts.repository ?? undefined,
      image: facts.image ?? undefined,
      details,
    }) as EnvelopeEvent['wharf'],
  };
}

/** Drops the undefined fields: JSON would drop them anyway, but the stored payload should look like what is sent. */
function prune<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
