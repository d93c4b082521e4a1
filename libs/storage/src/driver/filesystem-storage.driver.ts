import { constants } from 'node:fs';
import { FileHandle, open, readFile, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { appendBatched } from '../batched-file-append';
import { fsyncDir, mkdirDurably } from '../durable-fs';
import { FileRangeStream } from '../file-range-stream';
import { FileInfo, FileWriter, StorageDriver, assertValidPath } from './storage-driver';
import { InvalidOffsetError, PathNotFoundError } from './storage-errors';

/**
 * Paths as files under one root directory. Durable where it matters: a committed writer and a
 * moved file are fsynced with their directories, `putContent` and `move` replace by rename
 * (readers see the old or the new file, never a part). Bytes a writer wrote are readable at
 * once (the follower of a running download relies on that; other drivers may not allow it).
 */
export class FilesystemStorageDriver extends StorageDriver {
  readonly name = 'filesystem';

  constructor(private readonly root: string) {
    super();
  }

  async getContent(path: string): Promise<Buffer> {
    return this.missingAs(path, () => readFile(this.file(path)));
  }

  async putContent(path: string, content: Buffer): Promise<void> {
    const file = this.file(path);
    await mkdirDurably(dirname(file));
    const temporary = `${file}.${randomUUID()}.tmp`;
    const handle = await open(temporary, 'w');
    try {
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, file).catch(async (err) => {
      await unlink(temporary).catch(() => undefined);
      throw err;
    });
    await fsyncDir(dirname(file));
  }

  async reader(path: string, offset = 0, end?: number): Promise<Readable> {
    const handle = await this.missingAs(path, () => open(this.file(path), 'r'));
    try {
      const size = (await handle.stat()).size;
      if (offset > size) throw new InvalidOffsetError(this.name, path, offset);
      // The stream owns the handle and closes it on end or destroy.
      return new FileRangeStream(handle, offset, Math.min(end ?? size - 1, size - 1));
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  async writer(path: string, options: { append?: boolean } = {}): Promise<FileWriter> {
    const file = this.file(path);
    if (options.append) {
      const handle = await this.missingAs(path, () => open(file, constants.O_WRONLY | constants.O_APPEND));
      return new FilesystemWriter(file, handle, (await handle.stat()).size, false);
    }
    await mkdirDurably(dirname(file));
    return new FilesystemWriter(file, await open(file, 'w'), 0, true);
  }

  async stat(path: string): Promise<FileInfo> {
    const info = await this.missingAs(path, () => stat(this.file(path)));
    return { path, size: info.isDirectory() ? 0 : info.size, modifiedAt: info.mtime, isDirectory: info.isDirectory() };
  }

  async list(path: string): Promise<string[]> {
    const names = await this.missingAs(path, () => readdir(this.file(path)));
    if (names.length === 0) throw new PathNotFoundError(this.name, path);
    return names.sort().map((name) => `${path}/${name}`);
  }

  async listWritten(dir: string): Promise<Array<{ path: string; modifiedAt: Date }>> {
    // A file being written is the file itself, at its path.
    const children = await this.list(dir).catch((err) => {
      if (err instanceof PathNotFoundError) return [];
      throw err;
    });
    const written: Array<{ path: string; modifiedAt: Date }> = [];
    for (const path of children) {
      const info = await this.stat(path).catch(() => undefined);
      if (info && !info.isDirectory) written.push({ path, modifiedAt: info.modifiedAt });
    }
    return written;
  }

  async move(source: string, destination: string): Promise<void> {
    const from = this.file(source);
    const to = this.file(destination);
    await this.missingAs(source, () => stat(from));
    await mkdirDurably(dirname(to));
    await this.missingAs(source, () => rename(from, to));
    await fsyncDir(dirname(to));
    if (dirname(from) !== dirname(to)) await fsyncDir(dirname(from));
  }

  async delete(path: string): Promise<void> {
    const file = this.file(path);
    await this.missingAs(path, () => stat(file));
    await rm(file, { recursive: true, force: true });
  }

  async redirectUrl(): Promise<string | undefined> {
    return undefined;
  }

  override localPath(path: string): string {
    return this.file(path);
  }

  private file(path: string): string {
    assertValidPath(this.name, path);
    return join(this.root, path);
  }

  /** Runs `operation`, turning "no such file" into the driver's PathNotFoundError. */
  private async missingAs<T>(path: string, operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (err) {
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR') throw new PathNotFoundError(this.name, path);
      throw err;
    }
  }
}

class FilesystemWriter implements FileWriter {
  private done = false;

  constructor(
    private readonly file: string,
    private readonly handle: FileHandle,
    public size: number,
    private readonly created: boolean,
  ) {}

  async write(body: AsyncIterable<Buffer>, options: { onProgress?: (size: number) => void } = {}): Promise<number> {
    this.assertOpen();
    const start = this.size;
    try {
      await appendBatched(
        body,
        this.handle,
        () => undefined,
        (written) => {
          this.size = start + written;
          options.onProgress?.(this.size);
        },
      );
    } catch (err) {
      // appendBatched has let its last write settle: nothing lands after the cut.
      await this.handle.truncate(start);
      this.size = start;
      throw err;
    }
    return this.size;
  }

  async truncate(size: number): Promise<void> {
    this.assertOpen();
    if (size > this.size) throw new InvalidOffsetError('filesystem', this.file, size);
    await this.handle.truncate(size);
    this.size = size;
  }

  async close(): Promise<void> {
    this.finish();
    await this.handle.close();
  }

  async cancel(): Promise<void> {
    this.finish();
    await this.handle.close();
    await unlink(this.file).catch((err) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }

  async commit(): Promise<void> {
    this.finish();
    try {
      await this.handle.sync();
    } finally {
      await this.handle.close();
    }
    if (this.created) await fsyncDir(dirname(this.file));
  }

  private assertOpen(): void {
    if (this.done) throw new Error(`the writer of ${this.file} is already closed, cancelled or committed`);
  }

  private finish(): void {
    this.assertOpen();
    this.done = true;
  }
}
