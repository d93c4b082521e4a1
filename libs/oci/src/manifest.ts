import { tryParseDigest } from './digest';
import { MediaType, MANIFEST_MEDIA_TYPES, isIndexMediaType } from './media-types';
import { RegistryError } from './registry-error';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  artifactType?: string;
  annotations?: Record<string, string>;
  platform?: Record<string, unknown>;
}

/** What the registry needs to know about a manifest, extracted and validated from its bytes. */
export interface ParsedManifest {
  mediaType: string;
  isIndex: boolean;
  config?: Descriptor;
  layers: Descriptor[];
  /** Child manifests of an index. */
  manifests: Descriptor[];
  subject?: Descriptor;
  /** For referrers: the manifest's artifactType, else (image manifests) the config's media type. */
  artifactType?: string;
  annotations?: Record<string, string>;
}

/**
 * Parses and validates manifest bytes as pushed. The declared media type (body `mediaType`
 * and the request Content-Type) must agree; when the body omits it (allowed by OCI), the
 * Content-Type, else the structure, decides.
 */
export function parseManifest(bytes: Buffer, contentType?: string): ParsedManifest {
  let body: unknown;
  try {
    body = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw invalid(`manifest is not valid JSON: ${(err as Error).message}`);
  }
  if (!isObject(body)) throw invalid('manifest must be a JSON object');
  if (body.schemaVersion !== 2) throw invalid(`unsupported schemaVersion ${JSON.stringify(body.schemaVersion)}: only 2 is accepted`);

  const declared = typeof body.mediaType === 'string' ? body.mediaType : undefined;
  if (body.mediaType !== undefined && declared === undefined) throw invalid('mediaType must be a string');
  const header = normaliseContentType(contentType);
  const headerIsManifestType = header !== undefined && MANIFEST_MEDIA_TYPES.includes(header);
  if (declared && headerIsManifestType && declared !== header) {
    throw invalid(`Content-Type "${header}" does not match the manifest's mediaType "${declared}"`);
  }
  const mediaType = declared ?? (headerIsManifestType ? header : inferMediaType(body));
  if (!MANIFEST_MEDIA_TYPES.includes(mediaType)) {
    throw invalid(`unsupported manifest media type "${mediaType}"`);
  }

  const subject = body.subject === undefined ? undefined : descriptor(body.subject, 'subject');
  const artifactTypeField = optionalString(body.artifactType, 'artifactType');
  const annotations = body.annotations as Record<string, string> | undefined;

  if (isIndexMediaType(mediaType)) {
    if (!Array.isArray(body.manifests)) throw invalid('an index must have a "manifests" array');
    if (body.config !== undefined || body.layers !== undefined) throw invalid('an index must not have "config" or "layers"');
    const manifests = body.manifests.map((d, i) => descriptor(d, `manifests[${i}]`));
    return { mediaType, isIndex: true, layers: [], manifests, subject, artifactType: artifactTypeField, annotations };
  }

  if (body.manifests !== undefined) throw invalid('an image manifest must not have "manifests"');
  if (body.config === undefined) throw invalid('an image manifest must have a "config" descriptor');
  const config = descriptor(body.config, 'config');
  if (body.layers !== undefined && !Array.isArray(body.layers)) throw invalid('"layers" must be an array');
  const layers = ((body.layers as unknown[] | undefined) ?? []).map((d, i) => descriptor(d, `layers[${i}]`));
  if (mediaType === MediaType.DockerManifest && layers.length === 0) throw invalid('a Docker image manifest must have at least one layer');
  return {
    mediaType,
    isIndex: false,
    config,
    layers,
    manifests: [],
    subject,
    artifactType: artifactTypeField ?? config.mediaType,
    annotations,
  };
}

function inferMediaType(body: Record<string, unknown>): string {
  if (Array.isArray(body.manifests)) return MediaType.OciIndex;
  if (body.config !== undefined) return MediaType.OciManifest;
  throw invalid('cannot tell the manifest type: no mediaType, no manifest Content-Type, neither "config" nor "manifests"');
}

function descriptor(value: unknown, where: string): Descriptor {
  if (!isObject(value)) throw invalid(`${where} must be a descriptor object`);
  const { mediaType, digest, size, urls } = value;
  if (typeof mediaType !== 'string' || mediaType.length === 0) throw invalid(`${where}.mediaType must be a non-empty string`);
  if (typeof digest !== 'string' || !tryParseDigest(digest)) throw invalid(`${where}.digest "${String(digest)}" is not a valid digest`);
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw invalid(`${where}.size must be a non-negative integer`);
  if (urls !== undefined && (!Array.isArray(urls) || urls.some((u) => typeof u !== 'string'))) {
    throw invalid(`${where}.urls must be an array of strings`);
  }
  return {
    ...(value as object),
    mediaType,
    digest,
    size,
    urls: urls as string[] | undefined,
    artifactType: optionalString(value.artifactType, `${where}.artifactType`),
  } as Descriptor;
}

function optionalString(value: unknown, where: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalid(`${where} must be a string`);
  return value;
}

/** `application/x; charset=utf-8` -> `application/x`. */
export function normaliseContentType(contentType?: string): string | undefined {
  const value = contentType?.split(';')[0].trim().toLowerCase();
  return value ? value : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(message: string): RegistryError {
  return new RegistryError('MANIFEST_INVALID', message);
}
