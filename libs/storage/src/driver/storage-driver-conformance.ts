import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { StorageDriver } from './storage-driver';
import { InvalidOffsetError, InvalidPathError, PathNotFoundError } from './storage-errors';

export interface DriverUnderTest {
  driver: StorageDriver;
  /** Removes what the suite stored. */
  cleanup(): Promise<void>;
}

const MiB = 1024 * 1024;

/**
 * The behaviour every storage driver owes the blob store above it, as one jest suite: the
 * filesystem driver's spec and the S3 driver's e2e suite (against a real RADOS Gateway) run it.
 * Sizes cross S3's 5 MiB part minimum on purpose.
 */
export function describeStorageDriverConformance(name: string, setUp: () => Promise<DriverUnderTest>): void {
  describe(`${name} storage driver: conformance`, () => {
    let under: DriverUnderTest;
    let driver: StorageDriver;
    let n = 0;
    /** A fresh directory per test, so tests never see each other's files. */
    let dir: string;

    beforeAll(async () => {
      under = await setUp();
      driver = under.driver;
    });
    afterAll(async () => {
      await under?.cleanup();
    });
    beforeEach(() => {
      dir = `/conformance/t${++n}-${randomBytes(3).toString('hex')}`;
    });

    it('stores small content whole and replaces it', async () => {
      await driver.putContent(`${dir}/state`, Buffer.from('one'));
      expect((await driver.getContent(`${dir}/state`)).toString()).toBe('one');
      await driver.putContent(`${dir}/state`, Buffer.from('two, longer'));
      expect((await driver.getContent(`${dir}/state`)).toString()).toBe('two, longer');
      expect((await driver.stat(`${dir}/state`)).size).toBe(11);
    });

    it('reports missing paths with PathNotFoundError', async () => {
      const missing = `${dir}/missing`;
      await expect(driver.getContent(missing)).rejects.toBeInstanceOf(PathNotFoundError);
      await expect(driver.reader(missing)).rejects.toBeInstanceOf(PathNotFoundError);
      await expect(driver.stat(missing)).rejects.toBeInstanceOf(PathNotFoundError);
      await expect(driver.list(missing)).rejects.toBeInstanceOf(PathNotFoundError);
      await expect(driver.move(missing, `${dir}/elsewhere`)).rejects.toBeInstanceOf(PathNotFoundError);
      await expect(driver.delete(missing)).rejects.toBeInstanceOf(PathNotFoundError);
      await expect(driver.writer(missing, { append: true })).rejects.toBeInstanceOf(PathNotFoundError);
    });

    it('refuses paths that could leave its root', async () => {
      for (const bad of ['relative/path', '/a/../b', '/a//b', '/a/./b', '/a/b/', '/a b', '/a/b?c', '']) {
        await expect(driver.putContent(bad, Buffer.from('x'))).rejects.toBeInstanceOf(InvalidPathError);
        await expect(driver.stat(bad)).rejects.toBeInstanceOf(InvalidPathError);
      }
    });

    it('streams a large file through a writer, readable whole after commit', async () => {
      const chunks = [randomBytes(3 * MiB), randomBytes(4 * MiB), randomBytes(5 * MiB + 17)];
      const writer = await driver.writer(`${dir}/big`);
      expect(writer.size).toBe(0);
      expect(await writer.write(Readable.from(chunks))).toBe(12 * MiB + 17);
      await writer.commit();
      expect((await driver.stat(`${dir}/big`)).size).toBe(12 * MiB + 17);
      expect(await sha256Of(await driver.reader(`${dir}/big`))).toBe(sha256(Buffer.concat(chunks)));
    });

    it('continues a closed writer where it stopped, in this process or another', async () => {
      // Small, odd pieces as a chunked upload sends them: below and above S3's part minimum.
      const pieces = [randomBytes(1000), randomBytes(2 * MiB), randomBytes(6 * MiB + 3), randomBytes(10), randomBytes(3 * MiB)];
      let size = 0;
      for (const [i, piece] of pieces.entries()) {
        const writer = await driver.writer(`${dir}/chunked`, { append: i > 0 });
        expect(writer.size).toBe(size);
        size = await writer.write(Readable.from([piece]));
        if (i < pieces.length - 1) await writer.close();
        else await writer.commit();
      }
      expect(size).toBe(pieces.reduce((sum, p) => sum + p.length, 0));
      expect(await sha256Of(await driver.reader(`${dir}/chunked`))).toBe(sha256(Buffer.concat(pieces)));
    });

    it('a failed write leaves the file as it was, and the writer may go on', async () => {
      const before = randomBytes(3 * MiB);
      const writer = await driver.writer(`${dir}/failed`);
      await writer.write(Readable.from([before]));
      await writer.close();
      const resumed = await driver.writer(`${dir}/failed`, { append: true });
      // Past a part's worth, so that an S3 part is sent before the body fails.
      const failing = Readable.from(
        (async function* () {
          yield randomBytes(4 * MiB);
          yield randomBytes(4 * MiB);
          throw new Error('the client went away');
        })(),
      );
      await expect(resumed.write(failing)).rejects.toThrow('the client went away');
      expect(resumed.size).toBe(before.length);
      await resumed.close();
      const again = await driver.writer(`${dir}/failed`, { append: true });
      expect(again.size).toBe(before.length);
      await again.write(Readable.from([Buffer.from('rest')]));
      await again.commit();
      expect(await sha256Of(await driver.reader(`${dir}/failed`))).toBe(sha256(Buffer.concat([before, Buffer.from('rest')])));
    });

    it('cancel leaves nothing behind', async () => {
      const writer = await driver.writer(`${dir}/cancelled`);
      await writer.write(Readable.from([randomBytes(6 * MiB)]));
      await writer.cancel();
      await expect(driver.stat(`${dir}/cancelled`)).rejects.toBeInstanceOf(PathNotFoundError);
      await expect(driver.writer(`${dir}/cancelled`, { append: true })).rejects.toBeInstanceOf(PathNotFoundError);
    });

    it('lists the files of a directory finished or still being written, with when each was last written', async () => {
      expect(await driver.listWritten(dir)).toEqual([]);
      const before = Date.now();
      const open = await driver.writer(`${dir}/open`);
      await open.write(Readable.from([randomBytes(1000)]));
      await open.close();
      await driver.putContent(`${dir}/done`, Buffer.from('done'));
      await driver.putContent(`${dir}/sub/deeper`, Buffer.from('not a direct child'));
      const written = await driver.listWritten(dir);
      expect(written.map((file) => file.path)).toEqual([`${dir}/done`, `${dir}/open`]);
      // Clocks of a store and this host may differ by a little.
      for (const file of written) expect(Math.abs(file.modifiedAt.getTime() - before)).toBeLessThan(60_000);
      await (await driver.writer(`${dir}/open`, { append: true })).cancel();
    });

    it('a writer is done after commit', async () => {
      const writer = await driver.writer(`${dir}/once`);
      await writer.write(Readable.from([Buffer.from('x')]));
      await writer.commit();
      await expect(writer.write(Readable.from([Buffer.from('y')]))).rejects.toThrow();
      expect((await driver.getContent(`${dir}/once`)).toString()).toBe('x');
    });

    it('an empty committed file exists with size 0', async () => {
      const writer = await driver.writer(`${dir}/empty`);
      await writer.commit();
      expect((await driver.stat(`${dir}/empty`)).size).toBe(0);
      expect((await readAll(await driver.reader(`${dir}/empty`))).length).toBe(0);
    });

    it('reads from an offset, up to an inclusive end', async () => {
      const content = randomBytes(64 * 1024);
      await driver.putContent(`${dir}/ranged`, content);
      expect((await readAll(await driver.reader(`${dir}/ranged`, 1000))).equals(content.subarray(1000))).toBe(true);
      expect((await readAll(await driver.reader(`${dir}/ranged`, 1000, 1999))).equals(content.subarray(1000, 2000))).toBe(true);
      expect((await readAll(await driver.reader(`${dir}/ranged`, content.length))).length).toBe(0);
      await expect(driver.reader(`${dir}/ranged`, content.length + 1)).rejects.toBeInstanceOf(InvalidOffsetError);
    });

    it('stats and lists directories as the prefixes of files', async () => {
      await driver.putContent(`${dir}/tree/b`, Buffer.from('b'));
      await driver.putContent(`${dir}/tree/a`, Buffer.from('a'));
      await driver.putContent(`${dir}/tree/sub/c`, Buffer.from('c'));
      expect(await driver.list(`${dir}/tree`)).toEqual([`${dir}/tree/a`, `${dir}/tree/b`, `${dir}/tree/sub`]);
      const info = await driver.stat(`${dir}/tree/sub`);
      expect(info.isDirectory).toBe(true);
      const file = await driver.stat(`${dir}/tree/a`);
      expect(file).toMatchObject({ path: `${dir}/tree/a`, size: 1, isDirectory: false });
      expect(file.modifiedAt.getTime()).toBeGreaterThan(Date.now() - 10 * 60_000);
    });

    it('moves a file over another, and the source is gone', async () => {
      const content = randomBytes(6 * MiB);
      const writer = await driver.writer(`${dir}/from`);
      await writer.write(Readable.from([content]));
      await writer.commit();
      await driver.putContent(`${dir}/to/target`, Buffer.from('old'));
      await driver.move(`${dir}/from`, `${dir}/to/target`);
      await expect(driver.stat(`${dir}/from`)).rejects.toBeInstanceOf(PathNotFoundError);
      expect(await sha256Of(await driver.reader(`${dir}/to/target`))).toBe(sha256(content));
    });

    it('deletes a file, and a directory with everything under it', async () => {
      await driver.putContent(`${dir}/gone`, Buffer.from('x'));
      await driver.delete(`${dir}/gone`);
      await expect(driver.stat(`${dir}/gone`)).rejects.toBeInstanceOf(PathNotFoundError);
      await driver.putContent(`${dir}/tree/a`, Buffer.from('a'));
      await driver.putContent(`${dir}/tree/sub/b`, Buffer.from('b'));
      await driver.putContent(`${dir}/treeish`, Buffer.from('a sibling sharing the prefix stays'));
      await driver.delete(`${dir}/tree`);
      await expect(driver.stat(`${dir}/tree/sub/b`)).rejects.toBeInstanceOf(PathNotFoundError);
      await expect(driver.list(`${dir}/tree`)).rejects.toBeInstanceOf(PathNotFoundError);
      expect((await driver.getContent(`${dir}/treeish`)).length).toBeGreaterThan(0);
    });

    it('a redirect URL, where the driver gives one, serves the file', async () => {
      const content = randomBytes(4096);
      await driver.putContent(`${dir}/direct`, content);
      const url = await driver.redirectUrl(`${dir}/direct`, { method: 'GET', expiresInSeconds: 60 });
      if (url === undefined) {
        expect(driver.name).toBe('filesystem'); // the one driver without direct URLs
        return;
      }
      const res = await fetch(url);
      expect(res.status).toBe(200);
      expect(Buffer.from(await res.arrayBuffer()).equals(content)).toBe(true);
    });
  });
}

function sha256(buffer: Buffer): string {
  return createHash('sha256').update(buffer).digest('hex');
}

async function sha256Of(stream: Readable): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk);
  return hash.digest('hex');
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}
