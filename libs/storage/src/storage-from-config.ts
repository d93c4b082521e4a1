import { randomUUID } from 'node:crypto';
import { WharfConfig } from '@wharf/config';
import { FilesystemStorageDriver } from './driver/filesystem-storage.driver';
import { StorageDriver } from './driver/storage-driver';

/** The blob storage cannot be written (bucket missing, credentials refused, read-only disk): Wharf does not start. */
export class StorageUnusableError extends Error {
  constructor(where: string, cause: unknown) {
    const reason = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    super(`the blob storage (${where}) cannot be written: ${reason}`, { cause });
    this.name = 'StorageUnusableError';
  }
}

/**
 * The storage driver the configuration names. The AWS SDK is loaded only for S3: it adds
 * tens of MiB to a process, the primary of a multi-process Wharf included.
 */
export async function storageDriverFor(config: WharfConfig): Promise<StorageDriver> {
  if (config.storage !== 's3' || !config.s3) return new FilesystemStorageDriver(config.blobRoot);
  const { S3Client } = await import('@aws-sdk/client-s3');
  const { S3StorageDriver } = await import('./driver/s3-storage.driver');
  const { endpoint, region, forcePathStyle, credentials, bucket, prefix } = config.s3;
  const client = new S3Client({
    endpoint,
    region,
    forcePathStyle,
    credentials,
    // Plain signed bodies with a Content-Length: S3-compatible stores (Ceph's gateway among
    // them) answer 411 to the SDK's default aws-chunked uploads with trailing checksums.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return new S3StorageDriver({ client, bucket, prefix });
}

/** Where the blob bytes go, for messages: a directory, or s3://bucket/prefix at an endpoint. */
export function describeStorage(config: WharfConfig): string {
  if (config.storage !== 's3' || !config.s3) return config.blobRoot;
  const { bucket, prefix, endpoint } = config.s3;
  return `s3://${bucket}/${prefix}${endpoint ? ` at ${endpoint}` : ''}`;
}

/** Writes, reads back and deletes a small file: the start fails here rather than at the first push. */
export async function probeStorage(driver: StorageDriver, where: string): Promise<void> {
  const path = `/probes/${randomUUID()}`;
  try {
    await driver.putContent(path, Buffer.from('wharf'));
    if ((await driver.getContent(path)).toString() !== 'wharf') throw new Error('a file read back differs from what was written');
    await driver.delete(path);
  } catch (err) {
    throw new StorageUnusableError(where, err);
  }
}
