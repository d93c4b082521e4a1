import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { EmbeddedDatabase, EmbeddedDatabaseUnreadableError } from '@wharf/db';

jest.setTimeout(240_000);

// EmbeddedDatabase on its own (from the sources: its worker runs through ts-node here): PGlite
// in a worker thread behind a Postgres wire-protocol server, reached with the `pg` driver as
// Wharf reaches it.

/** The longest gap between timer ticks on this thread while `work` runs. */
async function longestStall(work: () => Promise<unknown>): Promise<{ stallMs: number; workMs: number }> {
  let last = performance.now();
  let stallMs = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    stallMs = Math.max(stallMs, now - last);
    last = now;
  }, 5);
  const started = performance.now();
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return { stallMs, workMs: performance.now() - started };
}

describe('EmbeddedDatabase', () => {
  let root: string;
  let dir: string;
  let db: EmbeddedDatabase | undefined;
  const clients: Client[] = [];
  const crashes: Error[] = [];

  const connect = async (url = db!.url): Promise<Client> => {
    const client = new Client({ connectionString: url });
    // Idle connections are cut when the database stops: expected here.
    client.on('error', () => undefined);
    await client.connect();
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'wharf-embedded-db-'));
    dir = path.join(root, 'pg');
    db = await EmbeddedDatabase.start(dir, { onCrash: (err) => crashes.push(err) });
  });
  afterAll(async () => {
    for (const client of clients) await client.end().catch(() => undefined);
    await db?.stop();
    await fs.rm(root, { recursive: true, force: true });
  });

  it('creates a new database and serves it on a loopback URL', async () => {
    expect(db!.url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
    await expect(fs.access(path.join(dir, 'PG_VERSION'))).resolves.toBeUndefined();
    const client = await connect();
    expect((await client.query('SELECT 1 + 1 AS two')).rows).toEqual([{ two: 2 }]);
  });

  it("runs queries off this thread: a long one does not hold up this thread's timers", async () => {
    const client = await connect();
    const { stallMs, workMs } = await longestStall(() => client.query('SELECT sum(g) FROM generate_series(1, 3000000) g'));
    // The query keeps PGlite busy for a while; this thread's timers keep firing meanwhile.
    expect(workMs).toBeGreaterThan(200);
    expect(stallMs).toBeLessThan(Math.max(100, workMs / 3));
  });

  it('serves several connections, one transaction at a time: the others wait for its end and see what it committed', async () => {
    const [a, b] = [await connect(), await connect()];
    await a.query('CREATE TABLE turns (id int PRIMARY KEY, who text)');
    await a.query('BEGIN');
    await a.query('INSERT INTO turns VALUES (1, $1)', ['a']);
    let seen: unknown[] | undefined;
    const waiting = b.query('SELECT who FROM turns ORDER BY id').then((r) => (seen = r.rows));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(seen).toBeUndefined();
    // The transaction's own connection goes on meanwhile.
    expect((await a.query('SELECT count(*)::int AS n FROM turns')).rows).toEqual([{ n: 1 }]);
    await a.query('COMMIT');
    await waiting;
    expect(seen).toEqual([{ who: 'a' }]);
  });

  it('rolls back the transaction of a connection that goes away in the middle of it', async () => {
    const [a, b] = [await connect(), await connect()];
    await a.query('CREATE TABLE left_open (id int)');
    await a.query('BEGIN');
    await a.query('INSERT INTO left_open VALUES (1)');
    await a.end();
    expect((await b.query('SELECT count(*)::int AS n FROM left_open')).rows).toEqual([{ n: 0 }]);
    // And the backend is free for a transaction of its own.
    await b.query('BEGIN');
    await b.query('INSERT INTO left_open VALUES (2)');
    await b.query('COMMIT');
    expect((await b.query('SELECT id FROM left_open')).rows).toEqual([{ id: 2 }]);
  });

  it('answers a failed query with its error and goes on, also inside a transaction until ROLLBACK', async () => {
    const client = await connect();
    await expect(client.query('SELECT 1 / $1::int', [0])).rejects.toThrow('division by zero');
    expect((await client.query('SELECT $1::int + 1 AS n', [1])).rows).toEqual([{ n: 2 }]);
    await client.query('BEGIN');
    await expect(client.query('SELECT * FROM no_such_table')).rejects.toThrow('does not exist');
    await expect(client.query('SELECT $1::int AS n', [1])).rejects.toThrow('current transaction is aborted');
    await client.query('ROLLBACK');
    expect((await client.query('SELECT $1::int AS n', [3])).rows).toEqual([{ n: 3 }]);
  });

  it('repeated queries (prepared behind the driver) give the right rows, also after the table changes shape', async () => {
    const [a, b] = [await connect(), await connect()];
    await a.query('CREATE TABLE shapes (id int PRIMARY KEY, name text)');
    await a.query("INSERT INTO shapes SELECT g, 'n' || g FROM generate_series(1, 50) g");
    const byId = 'SELECT * FROM shapes WHERE id = $1';
    for (let i = 1; i <= 20; i++) {
      const client = i % 2 ? a : b;
      expect((await client.query(byId, [i])).rows).toEqual([{ id: i, name: `n${i}` }]);
    }
    const prepared = "SELECT statement FROM pg_prepared_statements WHERE name LIKE 'wharf_embedded_%'";
    expect((await a.query(prepared)).rows).toContainEqual({ statement: byId });
    await a.query('ALTER TABLE shapes ADD COLUMN size int DEFAULT 7');
    expect((await b.query(byId, [3])).rows).toEqual([{ id: 3, name: 'n3', size: 7 }]);
    await a.query('ALTER TABLE shapes DROP COLUMN name');
    expect((await a.query(byId, [4])).rows).toEqual([{ id: 4, size: 7 }]);
    // Within transactions too, committed or rolled back.
    await a.query('BEGIN');
    expect((await a.query(byId, [5])).rows).toEqual([{ id: 5, size: 7 }]);
    await a.query('UPDATE shapes SET size = $2 WHERE id = $1', [5, 9]);
    await a.query('ROLLBACK');
    expect((await b.query(byId, [5])).rows).toEqual([{ id: 5, size: 7 }]);
  });

  it('stop() closes the database: the port refuses connections, and what was committed is there on the next start', async () => {
    const client = await connect();
    await client.query('CREATE TABLE kept (v text)');
    await client.query('INSERT INTO kept VALUES ($1)', ['still here']);
    const { url } = db!;
    await db!.stop();
    db = undefined;
    await expect(connect(url)).rejects.toThrow(/ECONNREFUSED/);
    expect(crashes).toEqual([]);

    db = await EmbeddedDatabase.start(dir, { onCrash: (err) => crashes.push(err) });
    expect((await (await connect()).query('SELECT v FROM kept')).rows).toEqual([{ v: 'still here' }]);
  });

  it("says so when its thread ends on its own, instead of leaving Wharf's queries hanging", async () => {
    const worker = (db as unknown as { worker: { terminate(): Promise<number> } }).worker;
    await worker.terminate();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(crashes).toHaveLength(1);
    expect(crashes[0].message).toContain(`the embedded database in ${dir} stopped unexpectedly`);
    // Stopping what is gone is no error.
    await expect(db!.stop()).resolves.toBeUndefined();
    db = undefined;
  });

  it('a damaged database is reported as one, with where its files are', async () => {
    await fs.truncate(path.join(dir, 'global', 'pg_control'), 0);
    const started = EmbeddedDatabase.start(dir, { onCrash: (err) => crashes.push(err) });
    await expect(started).rejects.toBeInstanceOf(EmbeddedDatabaseUnreadableError);
    await expect(started).rejects.toThrow(`the embedded database in ${dir} cannot be opened`);
  });
});
