import { Injectable } from '@nestjs/common';
import { RegistryError, parseDigest } from '@wharf/oci';
import { RegistryMetrics, RepositoryResolver } from '@wharf/registry';
import { BlobStore } from '@wharf/storage';
import { parseRangeHeader } from './http-range';
import { RegistryContext } from './registry-context';
import { sendBlobBody } from './send-blob-body';

type BlobContext = RegistryContext<{ kind: 'blob'; repoKey: string; image: string; digest: string }>;

@Injectable()
export class BlobsHandler {
  constructor(
    private readonly resolver: RepositoryResolver,
    private readonly store: BlobStore,
    private readonly metrics: RegistryMetrics,
  ) {}

  async get(ctx: BlobContext, withBody: boolean): Promise<void> {
    const { repoKey, image, digest } = ctx.route;
    const repo = await this.resolver.resolve(repoKey, ctx.mayRead);
    const blob = await repo.statBlob(image, digest);
    const range = parseRangeHeader(ctx.req.headers.range, blob.size);
    if (range === 'unsatisfiable') {
      throw new RegistryError('RANGE_INVALID', `range ${ctx.req.headers.range} cannot be served from ${blob.size} bytes`, undefined, {
        'Content-Range': `bytes */${blob.size}`,
      });
    }
    // With S3 redirects on, a stored blob's bytes go from the bucket to the client (docker,
    // podman, skopeo and containerd follow a 307 without sending it their credentials).
    const redirect = withBody && blob.stored ? await this.store.redirectUrl(parseDigest(blob.digest)) : undefined;
    if (redirect) {
      ctx.res.status(307).set({ Location: redirect, 'Docker-Content-Digest': blob.digest, 'Cache-Control': 'no-store', 'Content-Length': '0' }).end();
      // The bytes go from the bucket: counted as pulled here, the only place that sees the pull.
      this.metrics.blobPulled(repoKey, range ? range.end - range.start + 1 : blob.size);
      return;
    }
    // Open before setting any header: if the bytes are gone from disk, the error must not go
    // out with this blob's digest and a year-long Cache-Control.
    const stream = withBody && blob.size > 0 ? await repo.openBlob(image, blob, range) : undefined;
    ctx.res.set({
      'Content-Type': 'application/octet-stream',
      'Docker-Content-Digest': blob.digest,
      'Accept-Ranges': 'bytes',
      ETag: `"${blob.digest}"`,
      'Cache-Control': 'max-age=31536000',
    });
    if (range) {
      ctx.res.status(206).set({ 'Content-Range': `bytes ${range.start}-${range.end}/${blob.size}`, 'Content-Length': String(range.end - range.start + 1) });
    } else {
      ctx.res.status(200).set('Content-Length', String(blob.size));
    }
    if (!stream) {
      ctx.res.end();
      return;
    }
    if (await sendBlobBody(stream, ctx.res)) this.metrics.blobPulled(repoKey, range ? range.end - range.start + 1 : blob.size);
  }

  async delete(ctx: BlobContext): Promise<void> {
    const { repoKey, image, digest } = ctx.route;
    const repo = await this.resolver.resolve(repoKey, ctx.mayRead);
    await repo.deleteBlob(image, digest);
    ctx.res.status(202).set('Content-Length', '0').end();
  }
}
