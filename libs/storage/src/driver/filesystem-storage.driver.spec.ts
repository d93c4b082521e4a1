import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FilesystemStorageDriver } from './filesystem-storage.driver';
import { describeStorageDriverConformance } from './storage-driver-conformance';

describeStorageDriverConformance('filesystem', async () => {
  const root = await mkdtemp(join(tmpdir(), 'wharf-fs-driver-'));
  return { driver: new FilesystemStorageDriver(root), cleanup: () => rm(root, { recursive: true, force: true }) };
});
