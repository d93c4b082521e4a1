import { CLOSE_COMPLETE, PARSE_COMPLETE, StatementAlias, StatementCache, Step } from './statement-cache';

/** Frontend messages as the `pg` driver writes them: a type byte, a length, the body. */
function message(type: string, ...body: Buffer[]): Buffer {
  const content = Buffer.concat(body);
  const header = Buffer.alloc(5);
  header.write(type, 0, 'latin1');
  header.writeInt32BE(4 + content.length, 1);
  return Buffer.concat([header, content]);
}
const cstring = (text: string) => Buffer.from(`${text}\0`);
const int16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
const serialize = {
  parse: ({ text, name = '' }: { text: string; name?: string }) => message('P', cstring(name), cstring(text), int16(0)),
  bind: ({ statement = '', portal = '', values = [] as string[] }) =>
    message(
      'B',
      cstring(portal),
      cstring(statement),
      int16(0),
      int16(values.length),
      ...values.map((value) => {
        const length = Buffer.alloc(4);
        length.writeInt32BE(Buffer.byteLength(value));
        return Buffer.concat([length, Buffer.from(value)]);
      }),
      int16(0),
    ),
  describe: ({ type, name = '' }: { type: 'S' | 'P'; name?: string }) => message('D', Buffer.from(type), cstring(name)),
  close: ({ type, name = '' }: { type: 'S' | 'P'; name?: string }) => message('C', Buffer.from(type), cstring(name)),
  execute: () => message('E', cstring(''), Buffer.alloc(4)),
  sync: () => message('S'),
  query: (text: string) => message('Q', cstring(text)),
};

const TEXT = 'SELECT size FROM blobs WHERE digest = $1';
const parse = (text = TEXT, name?: string) => serialize.parse({ text, name });
const bind = (statement = '', portal = '') => serialize.bind({ statement, portal, values: ['sha256:abc'] });
/** A parameterized query as the `pg` driver sends it. */
const wholeQuery = () => [parse(), bind(), serialize.describe({ type: 'P' }), serialize.execute(), serialize.sync()];

/** The steps as readable text: runs as their message types (and a Bind's statement), answers as their type. */
function shape(steps: Step[]): string[] {
  return steps.map((step) => {
    if ('answer' in step) return `answer ${String.fromCharCode(step.answer[0])}`;
    const types: string[] = [];
    for (let at = 0; at < step.run.length; at += 1 + step.run.readInt32BE(at + 1)) {
      const type = String.fromCharCode(step.run[at]);
      if (type === 'B') {
        const portalEnd = step.run.indexOf(0, at + 5);
        types.push(`B(${step.run.toString('utf8', portalEnd + 1, step.run.indexOf(0, portalEnd + 1))})`);
      } else {
        types.push(type);
      }
    }
    return `run ${types.join('')}`;
  });
}

/** Runs the cache's chores as a backend that parses everything would. */
function doChores(cache: StatementCache): Buffer[] {
  const ran: Buffer[] = [];
  for (let chore = cache.nextChore(); chore; chore = cache.nextChore()) {
    ran.push(chore.messages);
    chore.done(Buffer.concat(chore.messages[0] === 0x50 ? [PARSE_COMPLETE, Buffer.from([0x5a, 0, 0, 0, 5, 0x49])] : [CLOSE_COMPLETE]));
  }
  return ran;
}

/** CommandComplete or ErrorResponse bodies, as the server hands them to `observe`. */
const commandComplete = (tag: string) => Buffer.from(`${tag}\0`);
const errorResponse = (code: string) => Buffer.from(`SERROR\0C${code}\0Mmessage\0\0`);

describe('StatementCache', () => {
  let cache: StatementCache;
  let connection: StatementAlias;

  beforeEach(() => {
    cache = new StatementCache(3, 'cached_');
    connection = {};
  });

  it('lets a query through the first time, prepares it the second, and binds it the third', () => {
    expect(shape(cache.rewrite(connection, wholeQuery(), false))).toEqual(['run PB()DES']);
    expect(cache.nextChore()).toBeUndefined();
    expect(shape(cache.rewrite(connection, wholeQuery(), false))).toEqual(['run PB()DES']);
    const chores = doChores(cache);
    expect(chores).toHaveLength(1);
    expect(chores[0].toString('latin1')).toContain(`cached_1\0${TEXT}\0`);
    expect(cache.prepared).toBe(1);

    expect(shape(cache.rewrite(connection, wholeQuery(), false))).toEqual(['answer 1', 'run B(cached_1)DES']);
    expect(connection.alias).toBe('cached_1');
  });

  it('keeps the unnamed statement for later messages of the connection, and answers its Close', () => {
    cache.rewrite(connection, [parse()], false);
    cache.rewrite(connection, [parse()], false);
    doChores(cache);
    expect(shape(cache.rewrite(connection, [parse()], false))).toEqual(['answer 1']);
    // The Bind comes in a later packet, with a named portal; then a Describe and Close of the statement.
    expect(shape(cache.rewrite(connection, [bind('', 'p1'), serialize.describe({ type: 'S' }), serialize.sync()], false))).toEqual(['run B(cached_1)DS']);
    const [step] = cache.rewrite(connection, [serialize.describe({ type: 'S' })], false);
    expect('run' in step && step.run.toString('latin1')).toContain('Scached_1\0');
    expect(shape(cache.rewrite(connection, [serialize.close({ type: 'S', name: '' }), serialize.sync()], false))).toEqual(['answer 3', 'run S']);
    expect(connection.alias).toBeUndefined();
  });

  it("leaves other connections' named statements, other queries and a failed transaction's Parse alone", () => {
    for (let i = 0; i < 2; i++) cache.rewrite(connection, [parse()], false);
    doChores(cache);
    expect(shape(cache.rewrite(connection, [parse(TEXT, 'theirs'), bind('theirs')], false))).toEqual(['run PB(theirs)']);
    expect(shape(cache.rewrite(connection, [parse('SELECT 2'), bind()], false))).toEqual(['run PB()']);
    // In a failed transaction the Parse must reach the backend, to fail there as it should.
    expect(shape(cache.rewrite(connection, [parse(), bind()], true))).toEqual(['run PB()']);
    // A simple query ends the unnamed statement.
    cache.rewrite(connection, [parse()], false);
    expect(connection.alias).toBe('cached_1');
    cache.rewrite(connection, [serialize.query('SELECT 1')], false);
    expect(connection.alias).toBeUndefined();
  });

  it('forgets every statement (closing them) after a schema change, or an error saying one is stale or gone', () => {
    for (const stale of [
      () => cache.observe(0x43, commandComplete('ALTER TABLE')),
      () => cache.observe(0x45, errorResponse('0A000')),
      () => cache.observe(0x43, commandComplete('DO')),
    ]) {
      for (let i = 0; i < 2; i++) cache.rewrite(connection, [parse()], false);
      doChores(cache);
      expect(cache.prepared).toBe(1);
      stale();
      expect(cache.prepared).toBe(0);
      const closes = doChores(cache);
      expect(closes).toHaveLength(1);
      expect(String.fromCharCode(closes[0][0])).toBe('C');
      expect(shape(cache.rewrite(connection, [parse(), bind()], false))).toEqual(['run PB()']);
      cache = new StatementCache(3, 'cached_');
    }
    // Nothing stale in an ordinary answer.
    for (let i = 0; i < 2; i++) cache.rewrite(connection, [parse()], false);
    doChores(cache);
    cache.observe(0x43, commandComplete('SELECT 1'));
    cache.observe(0x45, errorResponse('23505'));
    expect(cache.prepared).toBe(1);
  });

  it('holds at most its capacity, closing the least recently used', () => {
    const texts = ['SELECT 1', 'SELECT 2', 'SELECT 3', 'SELECT 4'];
    for (const text of texts.slice(0, 3)) for (let i = 0; i < 2; i++) cache.rewrite(connection, [parse(text)], false);
    doChores(cache);
    expect(cache.prepared).toBe(3);
    cache.rewrite(connection, [parse('SELECT 1')], false);
    cache.rewrite(connection, [parse('SELECT 4')], false);
    const chores = doChores(cache);
    expect(chores.map((chore) => String.fromCharCode(chore[0]))).toEqual(['C']);
    expect(chores[0].toString('latin1')).toContain('cached_2\0');
    expect(shape(cache.rewrite(connection, [parse('SELECT 1')], false))).toEqual(['answer 1']);
  });

  it('does not use a statement the backend refused to prepare, nor one forgotten while it was prepared', () => {
    for (let i = 0; i < 2; i++) cache.rewrite(connection, [parse('SELEC oops')], false);
    const chore = cache.nextChore()!;
    chore.done(Buffer.from([0x45, 0, 0, 0, 4]));
    expect(shape(cache.rewrite(connection, [parse('SELEC oops')], false))).toEqual(['run P']);

    for (let i = 0; i < 2; i++) cache.rewrite(connection, [parse()], false);
    const preparing = cache.nextChore()!;
    cache.observe(0x43, commandComplete('DROP TABLE'));
    preparing.done(PARSE_COMPLETE);
    expect(cache.prepared).toBe(0);
    expect(String.fromCharCode(cache.nextChore()!.messages[0])).toBe('C');
  });
});
