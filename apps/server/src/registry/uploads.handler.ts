import { Injectable } from '@nestjs/common';
import { RegistryError, parseRegistryRoute } from '@wharf/oci';
import { AppendRequest, BlobInfo, DockerRepository, RegistryMetrics, RepositoryResolver, UploadStatus } from '@wharf/registry';
import { parseContentRange } from './http-range';
import { RegistryAuthorizer } from './registry-authorizer';
import { RegistryContext, contentLength, hasBody, queryString, urlFor } from './registry-context';

type UploadsContext = RegistryContext<{ kind: 'uploads'; repoKey: string; image: string }>;
type UploadContext = RegistryContext<{ kind: 'upload'; repoKey: string; image: string; uploadId: string }>;

/** Blob uploads: monolithic, POST+PUT, chunked PATCHes, status, cancel and cross-repository mount. */
@Injectable()
export class UploadsHandler {
  constructor(
    private readonly resolver: RepositoryResolver,
    private readonly authorizer: RegistryAuthorizer,
    private readonly metrics: RegistryMetrics,
  ) {}

  async start(ctx: UploadsContext): Promise<void> {
    const { repoKey, image } = ctx.route;
    const repo = await this.resolver.resolve(repoKey, ctx.mayRead);
    const mount = queryString(ctx, 'mount');
    const digest = queryString(ctx, 'digest');

    if (mount !== undefined) {
      const from = queryString(ctx, 'from');
      const source = from ? this.mountSource(from, ctx) : undefined;
      const readable = source && (await this.authorizer.mayPull(ctx.auth, source.repoKey, source.image));
      const mounted = readable ? await repo.mountBlob(image, mount, { ...source, mayRead: ctx.mayRead }) : null;
      if (mounted) return this.created(ctx, mounted);
      // Source unknown or not readable: fall back to an ordinary upload, as the spec says.
    }
    if (digest !== undefined) {
      // Monolithic: the session exists only for this request, so a failure must not leave it behind.
      const body = this.appendRequest(ctx);
      const upload = await repo.startUpload(image);
      const blob = await repo.commitUpload(image, upload.id, digest, body).catch(async (err) => {
        await repo.cancelUpload(image, upload.id).catch(() => undefined);
        throw closeOnDigestMismatch(ctx, err);
      });
      this.metrics.blobPushed(repoKey, blob.size);
      return this.created(ctx, blob);
    }
    this.accepted(ctx, await repo.startUpload(image), 202);
  }

  async status(ctx: UploadContext): Promise<void> {
    const { repo, image, uploadId } = await this.resolve(ctx);
    this.accepted(ctx, await repo.getUpload(image, uploadId), 204);
  }

  async patch(ctx: UploadContext): Promise<void> {
    const { repo, image, uploadId } = await this.resolve(ctx);
    this.accepted(ctx, await repo.appendUpload(image, uploadId, this.appendRequest(ctx)), 202);
  }

  async put(ctx: UploadContext): Promise<void> {
    const { repo, image, uploadId } = await this.resolve(ctx);
    const digest = queryString(ctx, 'digest');
    if (!digest) throw closeOnDigestMismatch(ctx, new RegistryError('DIGEST_INVALID', 'the final PUT of an upload needs ?digest=<digest>'));
    let blob: BlobInfo;
    try {
      blob = await repo.commitUpload(image, uploadId, digest, hasBody(ctx) ? this.appendRequest(ctx) : undefined);
    } catch (err) {
      throw closeOnDigestMismatch(ctx, err);
    }
    // The whole blob, whichever of its chunks came with this request: a mount pushes nothing.
    this.metrics.blobPushed(ctx.route.repoKey, blob.size);
    this.created(ctx, blob);
  }

  async cancel(ctx: UploadContext): Promise<void> {
    const { repo, image, uploadId } = await this.resolve(ctx);
    await repo.cancelUpload(image, uploadId);
    ctx.res.status(204).end();
  }

  private async resolve(ctx: UploadContext): Promise<{ repo: DockerRepository; image: string; uploadId: string }> {
    return { repo: await this.resolver.resolve(ctx.route.repoKey, ctx.mayRead), image: ctx.route.image, uploadId: ctx.route.uploadId };
  }

  /** The body as a stream, with the Content-Range and Content-Length the client declared. */
  private appendRequest(ctx: RegistryContext): AppendRequest {
    const length = contentLength(ctx);
    if (length !== undefined && !Number.isSafeInteger(length)) throw new RegistryError('SIZE_INVALID', 'Content-Length is not a number');
    const range = parseContentRange(ctx.req.headers['content-range']);
    if (range === null) throw new RegistryError('BLOB_UPLOAD_INVALID', `malformed Content-Range "${ctx.req.headers['content-range']}": expected <start>-<end>`);
    const rangeLength = range ? range.end - range.start + 1 : undefined;
    if (rangeLength !== undefined && length !== undefined && rangeLength !== length) {
      throw new RegistryError('SIZE_INVALID', `Content-Range ${range!.start}-${range!.end} covers ${rangeLength} bytes but Content-Length is ${length}`);
    }
    // A chunked body has no Content-Length; the range it declared is then the length to hold it to.
    return { body: ctx.req, start: range?.start, length: length ?? rangeLength };
  }

  /** `from` names a repository the same way the request path does. */
  private mountSource(from: string, ctx: UploadsContext): { repoKey: string; image: string } {
    const fixedKey = ctx.prefix === '/v2/' ? undefined : ctx.route.repoKey;
    const parsed = parseRegistryRoute(`${from}/tags/list`, fixedKey);
    if (parsed.kind !== 'tags') throw new RegistryError('NAME_INVALID', `invalid mount source "${from}"`);
    return { repoKey: parsed.repoKey, image: parsed.image };
  }

  private created(ctx: RegistryContext, blob: BlobInfo): void {
    ctx.res
      .status(201)
      .set({ Location: urlFor(ctx, `blobs/${blob.digest}`), 'Docker-Content-Digest': blob.digest, 'Content-Length': '0' })
      .end();
  }

  private accepted(ctx: RegistryContext, upload: UploadStatus, status: number): void {
    ctx.res
      .status(status)
      .set({
        Location: urlFor(ctx, `blobs/uploads/${upload.id}`),
        Range: `0-${Math.max(0, upload.size - 1)}`,
        'Docker-Upload-UUID': upload.id,
        'Content-Length': '0',
      })
      .end();
  }
}

/**
 * A completing upload whose bytes do not match its digest may have been framed wrongly (a
 * Content-Length below the body): what follows on the connection cannot be trusted as a next
 * request, so the answer closes it.
 */
function closeOnDigestMismatch(ctx: RegistryContext, err: unknown): unknown {
  if (err instanceof RegistryError && err.code === 'DIGEST_INVALID' && !ctx.res.headersSent) ctx.res.setHeader('Connection', 'close');
  return err;
}
