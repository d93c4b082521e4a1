import { RegistryError } from '@wharf/oci';
import { DockerRepository } from '../docker-repository';
import { readCapped } from '../read-capped';

/** Image configs larger than this are not read for display: real ones are a few KiB. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

const IMAGE_CONFIG_TYPES = new Set(['application/vnd.oci.image.config.v1+json', 'application/vnd.docker.container.image.v1+json']);

/** Whether a config descriptor's media type is a container image's config (not an artifact's). */
export function isImageConfigType(mediaType: string): boolean {
  return IMAGE_CONFIG_TYPES.has(mediaType);
}

export interface HistoryEntry {
  created?: string;
  createdBy?: string;
  emptyLayer?: boolean;
  comment?: string;
}

/** What an image config says about the image, each field only when the config has it in the right shape. */
export interface ImageConfigDetails {
  os?: string;
  architecture?: string;
  variant?: string;
  created?: string;
  author?: string;
  entrypoint?: string[];
  cmd?: string[];
  env?: string[];
  workingDir?: string;
  user?: string;
  exposedPorts?: string[];
  labels?: Record<string, string>;
  history?: HistoryEntry[];
}

/**
 * The image config blob `digest` parsed as JSON, read from what `repository` holds (a remote's
 * cache only: no upstream is asked); null when it is not held, too large, or not a JSON object.
 */
export async function readImageConfig(repository: DockerRepository, image: string, digest: string): Promise<Record<string, unknown> | null> {
  try {
    const blob = await repository.heldBlob(image, digest);
    if (!blob || blob.size > MAX_CONFIG_BYTES) return null;
    const bytes = await readCapped(await repository.openBlob(image, blob), MAX_CONFIG_BYTES, () => new Error('config too large'));
    const body: unknown = JSON.parse(bytes.toString('utf8'));
    return isRecord(body) ? body : null;
  } catch (err) {
    // Display only: a config that cannot be read leaves its fields out, never fails the answer.
    if (err instanceof RegistryError && err.status >= 500) throw err;
    return null;
  }
}

/** The fields of a parsed image config worth showing, ignoring anything of an unexpected shape. */
export function describeImageConfig(config: Record<string, unknown>): ImageConfigDetails {
  const run = isRecord(config.config) ? config.config : {};
  const details: ImageConfigDetails = {
    os: text(config.os),
    architecture: text(config.architecture),
    variant: text(config.variant),
    created: text(config.created),
    author: text(config.author),
    entrypoint: texts(run.Entrypoint),
    cmd: texts(run.Cmd),
    env: texts(run.Env),
    workingDir: text(run.WorkingDir) || undefined,
    user: text(run.User) || undefined,
    exposedPorts: isRecord(run.ExposedPorts) ? Object.keys(run.ExposedPorts) : undefined,
    labels: stringMap(run.Labels),
    history: Array.isArray(config.history) ? config.history.filter(isRecord).map(historyEntry) : undefined,
  };
  return withoutUndefined(details);
}

/** `os/architecture[/variant]` of a config or an index entry's platform; undefined without both. */
export function platformString(platform: unknown): string | undefined {
  if (!isRecord(platform)) return undefined;
  const [os, architecture, variant] = [text(platform.os), text(platform.architecture), text(platform.variant)];
  if (!os || !architecture) return undefined;
  return variant ? `${os}/${architecture}/${variant}` : `${os}/${architecture}`;
}

function historyEntry(entry: Record<string, unknown>): HistoryEntry {
  return withoutUndefined({
    created: text(entry.created),
    createdBy: text(entry.created_by),
    emptyLayer: typeof entry.empty_layer === 'boolean' ? entry.empty_layer : undefined,
    comment: text(entry.comment),
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function texts(value: unknown): string[] | undefined {
  return Array.isArray(value) ? value.filter((each): each is string => typeof each === 'string') : undefined;
}

/** An object's string-valued entries (labels, annotations); undefined for anything but an object. */
export function stringMap(value: unknown): Record<string, string> | undefined {
  if (!isRecord(value)) return undefined;
  return Object.fromEntries(Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, each]) => each !== undefined)) as T;
}
