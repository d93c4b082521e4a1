// Proves the real S3 the S3 storage driver is tested against: Ceph's RADOS Gateway (Debian's
// radosgw 16, "pacific") in a throwaway single-node cluster (test/helpers/ceph-rgw.ts), driven
// with the AWS SDK v3 the driver will use. The assertions also record what this gateway does where
// it differs from AWS, so that a driver failure against it cannot be the gateway's surprise:
// - Uploads must carry a Content-Length: the SDK's default aws-chunked streaming upload (trailing
//   checksum, used for stream bodies unless `requestChecksumCalculation: 'WHEN_REQUIRED'`) and a
//   plain chunked upload of a stream of unknown length are both answered 411 MissingContentLength.
//   Unknown lengths go through @aws-sdk/lib-storage's Upload (multipart, parts buffered).
// - CompleteMultipartUpload answers an empty ETag (so does lib-storage's Upload, which passes it
//   on); HeadObject has it (`"<md5 of the parts' md5s>-<parts>"`).
// - CopyObject and UploadPartCopy answer ETags without the quotes; CompleteMultipartUpload takes
//   them as they are.
// - The flexible checksums (x-amz-checksum-*) are ignored: a wrong one is accepted and none is
//   returned. Content-MD5 is checked (400 BadDigest). If-None-Match: * on PutObject is honoured (412).
// - A part under 5 MiB that is not the last is refused only by CompleteMultipartUpload (400
//   EntityTooSmall), not by UploadPart.
// - HeadObject answers 404 NotFound for a missing key and for a missing bucket alike.
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { CephRgw, startCephRgw } from './helpers/ceph-rgw';

jest.setTimeout(120_000);

const MiB = 1024 * 1024;
const bucket = 'wharf-blobs';

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function md5(bytes: Uint8Array): string {
  return createHash('md5').update(bytes).digest('hex');
}

/** S3's multipart ETag: the md5 of the parts' binary md5s, then `-<number of parts>`. */
function multipartEtag(parts: Uint8Array[]): string {
  const digests = Buffer.concat(parts.map((part) => createHash('md5').update(part).digest()));
  return `"${md5(digests)}-${parts.length}"`;
}

/** `size` bytes in 64 KiB chunks, produced lazily: a body whose length the SDK cannot know. */
function chunkedStream(bytes: Buffer): Readable {
  return Readable.from(
    (function* () {
      for (let offset = 0; offset < bytes.length; offset += 64 * 1024) yield bytes.subarray(offset, offset + 64 * 1024);
    })(),
  );
}

/** The error an SDK call rejects with (fails the test when it resolves). */
async function s3Error(promise: Promise<unknown>): Promise<{ name: string; status?: number }> {
  try {
    await promise;
  } catch (error) {
    const { name, $metadata } = error as { name: string; $metadata?: { httpStatusCode?: number } };
    return { name, status: $metadata?.httpStatusCode };
  }
  throw new Error('expected the S3 call to fail');
}

describe('Ceph RADOS Gateway as the test S3', () => {
  let rgw: CephRgw;
  let s3: S3Client;

  beforeAll(async () => {
    const started = Date.now();
    rgw = await startCephRgw();
    // Reported, not asserted: about 1.5 s on two cores.
    console.log(`Ceph RADOS Gateway started in ${Date.now() - started} ms at ${rgw.endpoint}`);
    s3 = new S3Client(rgw.s3Config);
    await rgw.createBucket(bucket);
  }, 90_000);

  afterAll(async () => {
    s3?.destroy();
    await rgw?.stop();
  });

  async function getBytes(key: string): Promise<Buffer> {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return Buffer.from(await object.Body!.transformToByteArray());
  }

  it('answers an anonymous GET / with an empty bucket listing', async () => {
    const response = await fetch(`${rgw.endpoint}/`);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('<ListAllMyBucketsResult');
  });

  it('round-trips an object through PutObject, GetObject and HeadObject', async () => {
    const bytes = randomBytes(100_000);
    const put = await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'small/one', Body: bytes, ContentType: 'application/octet-stream', Metadata: { digest: `sha256:${sha256(bytes)}` } }),
    );
    expect(put.ETag).toBe(`"${md5(bytes)}"`);

    expect((await getBytes('small/one')).equals(bytes)).toBe(true);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'small/one' }));
    expect(head.ContentLength).toBe(bytes.length);
    expect(head.ETag).toBe(put.ETag);
    expect(head.ContentType).toBe('application/octet-stream');
    expect(head.Metadata).toEqual({ digest: `sha256:${sha256(bytes)}` });

    const range = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'small/one', Range: 'bytes=10-19' }));
    expect(range.$metadata.httpStatusCode).toBe(206);
    expect(range.ContentRange).toBe(`bytes 10-19/${bytes.length}`);
    expect(Buffer.from(await range.Body!.transformToByteArray()).equals(bytes.subarray(10, 20))).toBe(true);
  });

  it('takes a streamed upload of a few MiB when the length is given', async () => {
    const bytes = randomBytes(4 * MiB + 123);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'streamed/known-length', Body: chunkedStream(bytes), ContentLength: bytes.length }));
    const back = await getBytes('streamed/known-length');
    expect(back.length).toBe(bytes.length);
    expect(sha256(back)).toBe(sha256(bytes));
  });

  it('answers 411 to a stream of unknown length and to the default client aws-chunked upload; lib-storage Upload takes it', async () => {
    // The SDK warns on the console about both (unknown length; a failed stream it cannot retry).
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const bytes = randomBytes(3 * MiB);
    expect(await s3Error(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'streamed/unknown', Body: chunkedStream(bytes) })))).toEqual({
      name: 'MissingContentLength',
      status: 411,
    });

    // The SDK's defaults (checksums WHEN_SUPPORTED): a stream body goes as aws-chunked with a
    // trailing CRC32, which radosgw 16 does not know.
    const { requestChecksumCalculation, responseChecksumValidation, ...defaults } = rgw.s3Config;
    const defaultClient = new S3Client(defaults);
    try {
      const put = defaultClient.send(new PutObjectCommand({ Bucket: bucket, Key: 'streamed/aws-chunked', Body: chunkedStream(bytes), ContentLength: bytes.length }));
      expect(await s3Error(put)).toEqual({ name: 'MissingContentLength', status: 411 });
    } finally {
      defaultClient.destroy();
      warn.mockRestore();
    }

    // lib-storage buffers parts: unknown lengths become multipart uploads (or one PutObject).
    const body = randomBytes(11 * MiB);
    const done = await new Upload({ client: s3, params: { Bucket: bucket, Key: 'streamed/lib-storage', Body: chunkedStream(body) }, partSize: 5 * MiB }).done();
    expect(done.ETag).toBe(''); // CompleteMultipartUpload's empty ETag, passed on.
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'streamed/lib-storage' }));
    expect(head.ContentLength).toBe(body.length);
    expect(head.ETag).toBe(multipartEtag([body.subarray(0, 5 * MiB), body.subarray(5 * MiB, 10 * MiB), body.subarray(10 * MiB)]));
    expect(sha256(await getBytes('streamed/lib-storage'))).toBe(sha256(body));
  });

  it('assembles a multipart upload of two 5 MiB parts and a small last part', async () => {
    const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(1234)];
    const whole = Buffer.concat(parts);
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'multipart/three', ContentType: 'application/octet-stream' }));
    expect(UploadId).toBeTruthy();

    const etags: string[] = [];
    for (const [index, part] of parts.entries()) {
      const uploaded = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'multipart/three', UploadId, PartNumber: index + 1, Body: part }));
      expect(uploaded.ETag).toBe(`"${md5(part)}"`);
      etags.push(uploaded.ETag!);
    }
    const complete = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: 'multipart/three',
        UploadId,
        MultipartUpload: { Parts: etags.map((ETag, index) => ({ ETag, PartNumber: index + 1 })) },
      }),
    );
    // Quirk: radosgw 16 answers `<ETag></ETag>`; the object's ETag comes from HeadObject.
    expect(complete.ETag ?? '').toBe('');
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'multipart/three' }));
    expect(head.ETag).toBe(multipartEtag(parts));
    expect(head.ContentLength).toBe(whole.length);

    const back = await getBytes('multipart/three');
    expect(back.length).toBe(10 * MiB + 1234);
    expect(sha256(back)).toBe(sha256(whole));
  });

  it('refuses a small part that is not the last only at completion, and aborts an upload once', async () => {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'multipart/too-small' }));
    const parts = [];
    for (const PartNumber of [1, 2]) {
      const { ETag } = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'multipart/too-small', UploadId, PartNumber, Body: randomBytes(100) }));
      parts.push({ ETag, PartNumber });
    }
    const complete = s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'multipart/too-small', UploadId, MultipartUpload: { Parts: parts } }));
    expect(await s3Error(complete)).toEqual({ name: 'EntityTooSmall', status: 400 });

    await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'multipart/too-small', UploadId }));
    expect(await s3Error(s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'multipart/too-small', UploadId })))).toEqual({
      name: 'NoSuchUpload',
      status: 404,
    });
  });

  it('copies ranges of an object into a new multipart upload with UploadPartCopy', async () => {
    const source = randomBytes(10 * MiB + 512 * 1024);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'copy/part-source', Body: source }));
    const tail = randomBytes(4321);
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'copy/part-target' }));

    const first = await s3.send(
      new UploadPartCopyCommand({
        Bucket: bucket,
        Key: 'copy/part-target',
        UploadId,
        PartNumber: 1,
        CopySource: `${bucket}/copy/part-source`,
        CopySourceRange: `bytes=0-${5 * MiB - 1}`,
      }),
    );
    const second = await s3.send(
      new UploadPartCopyCommand({
        Bucket: bucket,
        Key: 'copy/part-target',
        UploadId,
        PartNumber: 2,
        CopySource: `${bucket}/copy/part-source`,
        CopySourceRange: `bytes=${5 * MiB}-${source.length - 1}`,
      }),
    );
    // Quirk: the copied parts' ETags come without quotes.
    expect(first.CopyPartResult?.ETag).toBe(md5(source.subarray(0, 5 * MiB)));
    expect(second.CopyPartResult?.ETag).toBe(md5(source.subarray(5 * MiB)));
    const third = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'copy/part-target', UploadId, PartNumber: 3, Body: tail }));

    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: 'copy/part-target',
        UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: first.CopyPartResult!.ETag },
            { PartNumber: 2, ETag: second.CopyPartResult!.ETag },
            { PartNumber: 3, ETag: third.ETag },
          ],
        },
      }),
    );
    const whole = Buffer.concat([source, tail]);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'copy/part-target' }));
    expect(head.ContentLength).toBe(whole.length);
    expect(head.ETag).toBe(multipartEtag([source.subarray(0, 5 * MiB), source.subarray(5 * MiB), tail]));
    expect(sha256(await getBytes('copy/part-target'))).toBe(sha256(whole));
  });

  it('copies an object with CopyObject, a multipart one included', async () => {
    const bytes = randomBytes(50_000);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'copy/source', Body: bytes, Metadata: { origin: 'copy' } }));
    const copied = await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'copy/target', CopySource: `${bucket}/copy/source` }));
    // Quirk: without quotes, unlike PutObject's and HeadObject's.
    expect(copied.CopyObjectResult?.ETag).toBe(md5(bytes));
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'copy/target' }));
    expect(head.ETag).toBe(`"${md5(bytes)}"`);
    expect(head.Metadata).toEqual({ origin: 'copy' });
    expect((await getBytes('copy/target')).equals(bytes)).toBe(true);

    // A multipart object's copy keeps its `-N` ETag.
    const multipart = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'multipart/three' }));
    await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'copy/multipart', CopySource: `${bucket}/multipart/three` }));
    const copy = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'copy/multipart' }));
    expect(copy.ContentLength).toBe(multipart.ContentLength);
    expect(copy.ETag).toBe(multipart.ETag);
    expect(copy.ETag).toMatch(/^"[0-9a-f]{32}-3"$/);
    expect(sha256(await getBytes('copy/multipart'))).toBe(sha256(await getBytes('multipart/three')));
  });

  it('lists with a prefix, a delimiter and continuation tokens', async () => {
    for (const key of ['list/a/1', 'list/a/2', 'list/b/1', 'listing-not-under']) {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }));
    }
    const underA = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'list/a/' }));
    expect(underA.Contents?.map((object) => [object.Key, object.Size])).toEqual([
      ['list/a/1', 8],
      ['list/a/2', 8],
    ]);
    expect(underA.KeyCount).toBe(2);
    expect(underA.IsTruncated).toBe(false);

    const folders = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'list/', Delimiter: '/' }));
    expect(folders.CommonPrefixes?.map((prefix) => prefix.Prefix)).toEqual(['list/a/', 'list/b/']);
    expect(folders.Contents ?? []).toEqual([]);

    const keys: string[] = [];
    let ContinuationToken: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'list/', MaxKeys: 2, ContinuationToken }));
      keys.push(...(page.Contents ?? []).map((object) => object.Key!));
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
    expect(keys).toEqual(['list/a/1', 'list/a/2', 'list/b/1']);
  });

  it('deletes an object, and a missing key without complaint', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'delete/me', Body: 'bye' }));
    const deleted = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'delete/me' }));
    expect(deleted.$metadata.httpStatusCode).toBe(204);
    expect(await s3Error(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'delete/me' })))).toEqual({ name: 'NotFound', status: 404 });
    expect(await s3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'delete/me' })))).toEqual({ name: 'NoSuchKey', status: 404 });
    const again = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'delete/me' }));
    expect(again.$metadata.httpStatusCode).toBe(204);
  });

  it('serves a presigned GET URL to a plain fetch, and refuses a tampered one', async () => {
    const bytes = randomBytes(200_000);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'presigned/blob', Body: bytes, ContentType: 'application/vnd.oci.image.layer.v1.tar+gzip' }));
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'presigned/blob' }), { expiresIn: 300 });
    expect(url.startsWith(`${rgw.endpoint}/${bucket}/presigned/blob?`)).toBe(true);

    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/vnd.oci.image.layer.v1.tar+gzip');
    expect(response.headers.get('etag')).toBe(`"${md5(bytes)}"`);
    expect(Buffer.from(await response.arrayBuffer()).equals(bytes)).toBe(true);

    const ranged = await fetch(url, { headers: { range: 'bytes=0-9' } });
    expect(ranged.status).toBe(206);
    expect(Buffer.from(await ranged.arrayBuffer()).equals(bytes.subarray(0, 10))).toBe(true);

    const tampered = url.replace(/X-Amz-Signature=([0-9a-f])/, (_, first: string) => `X-Amz-Signature=${first === '0' ? '1' : '0'}`);
    const refused = await fetch(tampered);
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('<Code>SignatureDoesNotMatch</Code>');
  });

  it('answers HeadObject of a missing key, or of a missing bucket, with 404 NotFound', async () => {
    expect(await s3Error(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'missing/key' })))).toEqual({ name: 'NotFound', status: 404 });
    expect(await s3Error(s3.send(new HeadObjectCommand({ Bucket: 'no-such-bucket', Key: 'missing/key' })))).toEqual({ name: 'NotFound', status: 404 });
    expect(await s3Error(s3.send(new GetObjectCommand({ Bucket: 'no-such-bucket', Key: 'missing/key' })))).toEqual({ name: 'NoSuchBucket', status: 404 });
  });

  it('checks Content-MD5 and If-None-Match, and ignores the flexible checksums', async () => {
    const bytes = Buffer.from('integrity');
    const wrongMd5 = createHash('md5').update('something else').digest('base64');
    expect(await s3Error(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'integrity/md5', Body: bytes, ContentMD5: wrongMd5 })))).toEqual({
      name: 'BadDigest',
      status: 400,
    });
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'integrity/md5', Body: bytes, ContentMD5: createHash('md5').update(bytes).digest('base64') }));

    // Create-only writes: a second PutObject with If-None-Match: * is refused.
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'integrity/once', Body: bytes, IfNoneMatch: '*' }));
    expect(await s3Error(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'integrity/once', Body: bytes, IfNoneMatch: '*' })))).toEqual({
      name: 'PreconditionFailed',
      status: 412,
    });

    // x-amz-checksum-sha256 is not checked, stored or returned by radosgw 16: a wrong one passes.
    const wrongSha256 = createHash('sha256').update('something else').digest('base64');
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'integrity/sha256', Body: bytes, ChecksumSHA256: wrongSha256 }));
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'integrity/sha256', ChecksumMode: 'ENABLED' }));
    expect(head.ChecksumSHA256).toBeUndefined();
    expect(head.ContentLength).toBe(bytes.length);
  });
});
