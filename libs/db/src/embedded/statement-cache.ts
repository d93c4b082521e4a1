/**
 * Prepared statements for the queries Wharf repeats, behind the `pg` driver's back. The driver
 * sends every parameterized query as an unnamed Parse, Bind, Describe, Execute and Sync, so
 * the backend parses and plans the query every time; in PGlite that was about three quarters
 * of a lookup's cost (measured: ~250-350 µs for Wharf's blob lookup unnamed, 70-100 µs bound to
 * a named statement). The second time a query text (with its parameter types) is seen, it is
 * prepared once under a name of this cache's (between units of work, with no transaction
 * open); from then on the connection's Parse is answered here with ParseComplete without
 * reaching the backend, and its Bind (and a Describe or Close of the unnamed statement) name
 * the prepared statement instead. Postgres replans a prepared statement itself when a table it
 * uses changes; a schema change seen in a CommandComplete (CREATE, ALTER, DROP...) or DISCARD
 * or DEALLOCATE forgets every statement, so a result whose columns changed is never served
 * from an old plan.
 */

const PARSE = 0x50; // 'P'
const BIND = 0x42; // 'B'
const DESCRIBE = 0x44; // 'D'
const CLOSE = 0x43; // 'C'
const QUERY = 0x51; // 'Q'
const STATEMENT = 0x53; // 'S', in Describe and Close
const COMMAND_COMPLETE = 0x43; // 'C', from the backend
const ERROR_RESPONSE = 0x45; // 'E', from the backend
/** "cached plan must not change result type" */
const FEATURE_NOT_SUPPORTED = '0A000';
/** "prepared statement ... does not exist" */
const INVALID_STATEMENT_NAME = '26000';
const SYNC_MESSAGE = Buffer.from([0x53, 0, 0, 0, 4]);
export const PARSE_COMPLETE = Buffer.from([0x31, 0, 0, 0, 4]);
export const CLOSE_COMPLETE = Buffer.from([0x33, 0, 0, 0, 4]);

/** CommandComplete tags after which a prepared statement's plan or existence may be stale (DO and CALL may run any of the others). */
const STALE_AFTER = /^(CREATE|ALTER|DROP|DISCARD|DEALLOCATE|GRANT|REVOKE|DO|CALL)\b/;

interface Entry {
  /** The Parse message's bytes after its (empty) name: the query text and parameter types. */
  readonly body: Buffer;
  name?: string;
  state: 'seen' | 'preparing' | 'prepared' | 'refused';
}

/** What a connection's unnamed statement stands for, kept per connection. */
export interface StatementAlias {
  alias?: string;
}

/** One step of a rewritten unit: messages to run, or an answer given in the backend's place. */
export type Step = { run: Buffer } | { answer: Buffer };

/** Work for the backend between units: its answer goes to `done`. */
export interface Chore {
  messages: Buffer;
  done(answer: Buffer): void;
}

export class StatementCache {
  private readonly entries = new Map<string, Entry>();
  private readonly chores: Chore[] = [];
  private counter = 0;

  constructor(
    private readonly capacity = 256,
    private readonly prefix = 'wharf_embedded_',
  ) {}

  get prepared(): number {
    let count = 0;
    for (const entry of this.entries.values()) if (entry.state === 'prepared') count++;
    return count;
  }

  /**
   * The connection's messages as steps: runs of messages for the backend, with the answers of
   * Parse and Close messages taken out of them in between. `failedTransaction`: the backend's
   * transaction failed, where a Parse must reach it to fail as it should.
   */
  rewrite(connection: StatementAlias, messages: Buffer[], failedTransaction: boolean): Step[] {
    const steps: Step[] = [];
    let run: Buffer[] = [];
    const answer = (bytes: Buffer) => {
      if (run.length > 0) steps.push({ run: run.length === 1 ? run[0] : Buffer.concat(run) });
      run = [];
      steps.push({ answer: bytes });
    };
    for (const message of messages) {
      const type = message[0];
      if (type === PARSE && message[5] === 0) {
        const entry = failedTransaction ? undefined : this.lookUp(message);
        if (entry?.state === 'prepared') {
          connection.alias = entry.name;
          answer(PARSE_COMPLETE);
          continue;
        }
        connection.alias = undefined;
      } else if (type === QUERY) {
        // A simple query drops the unnamed statement.
        connection.alias = undefined;
      } else if (connection.alias !== undefined) {
        const portalEnd = type === BIND ? message.indexOf(0, 5) : -1;
        if (portalEnd > 0 && message[portalEnd + 1] === 0) {
          run.push(bindTo(message, portalEnd, connection.alias));
          continue;
        }
        if (type === DESCRIBE && message[5] === STATEMENT && message[6] === 0) {
          run.push(withName(DESCRIBE, STATEMENT, connection.alias));
          continue;
        }
        if (type === CLOSE && message[5] === STATEMENT && message[6] === 0) {
          connection.alias = undefined;
          answer(CLOSE_COMPLETE);
          continue;
        }
      }
      run.push(message);
    }
    if (run.length > 0) steps.push({ run: run.length === 1 ? run[0] : Buffer.concat(run) });
    return steps;
  }

  /**
   * Reads one message of the backend's answers (type, and its body without type and length):
   * CommandComplete tags after which prepared plans may be stale, and errors that say one is
   * (a result type that changed, a statement gone): then every statement is forgotten.
   */
  observe(type: number, body: Buffer): void {
    if (type === COMMAND_COMPLETE) {
      if (STALE_AFTER.test(body.toString('latin1', 0, Math.max(0, body.indexOf(0))))) this.forgetAll();
    } else if (type === ERROR_RESPONSE) {
      const code = errorCode(body);
      if (code === FEATURE_NOT_SUPPORTED || code === INVALID_STATEMENT_NAME) this.forgetAll();
    }
  }

  /** The next piece of work for the backend, to run while no connection holds it. */
  nextChore(): Chore | undefined {
    return this.chores.shift();
  }

  private lookUp(parse: Buffer): Entry | undefined {
    const key = parse.toString('latin1', 6);
    const entry = this.entries.get(key);
    if (!entry) {
      this.entries.set(key, { body: Buffer.from(parse.subarray(6)), state: 'seen' });
      this.trim();
      return undefined;
    }
    // Most recently used last: the first entry is the one to evict.
    this.entries.delete(key);
    this.entries.set(key, entry);
    if (entry.state === 'seen') this.prepare(entry);
    return entry;
  }

  private prepare(entry: Entry): void {
    entry.state = 'preparing';
    const name = `${this.prefix}${++this.counter}`;
    const nameBytes = Buffer.from(`${name}\0`, 'utf8');
    const parse = Buffer.alloc(5 + nameBytes.length + entry.body.length);
    parse[0] = PARSE;
    parse.writeInt32BE(parse.length - 1, 1);
    nameBytes.copy(parse, 5);
    entry.body.copy(parse, 5 + nameBytes.length);
    this.chores.push({
      messages: Buffer.concat([parse, SYNC_MESSAGE]),
      done: (answer) => {
        // Forgotten meanwhile: the statement is closed again (its name is not reused).
        if (entry.state !== 'preparing') return this.close(name);
        const parsed = answer.length >= 5 && answer[0] === PARSE_COMPLETE[0];
        entry.state = parsed ? 'prepared' : 'refused';
        if (parsed) entry.name = name;
      },
    });
  }

  private trim(): void {
    while (this.entries.size > this.capacity) {
      const [key, entry] = this.entries.entries().next().value as [string, Entry];
      this.entries.delete(key);
      this.retire(entry);
    }
  }

  private forgetAll(): void {
    for (const entry of this.entries.values()) this.retire(entry);
    this.entries.clear();
  }

  private retire(entry: Entry): void {
    if (entry.state === 'prepared' && entry.name) this.close(entry.name);
    entry.state = 'refused';
  }

  private close(name: string): void {
    this.chores.push({ messages: Buffer.concat([withName(CLOSE, STATEMENT, name), SYNC_MESSAGE]), done: () => undefined });
  }
}

/** A Bind of the unnamed statement rebuilt to bind `statement`: type, length, portal (ending at `portalEnd`), statement, the rest. */
function bindTo(bind: Buffer, portalEnd: number, statement: string): Buffer {
  const name = Buffer.from(`${statement}\0`, 'utf8');
  const portal = bind.subarray(5, portalEnd + 1);
  const rest = bind.subarray(portalEnd + 2);
  const out = Buffer.alloc(5 + portal.length + name.length + rest.length);
  out[0] = BIND;
  out.writeInt32BE(out.length - 1, 1);
  portal.copy(out, 5);
  name.copy(out, 5 + portal.length);
  rest.copy(out, 5 + portal.length + name.length);
  return out;
}

/** A Describe or Close of a named statement or portal. */
function withName(type: number, kind: number, name: string): Buffer {
  const bytes = Buffer.from(name, 'utf8');
  const out = Buffer.alloc(1 + 4 + 1 + bytes.length + 1);
  out[0] = type;
  out.writeInt32BE(out.length - 1, 1);
  out[5] = kind;
  bytes.copy(out, 6);
  return out;
}

/** The SQLSTATE of an ErrorResponse's body: fields of a code byte and a string, up to a zero byte. */
function errorCode(body: Buffer): string | undefined {
  for (let at = 0; at < body.length && body[at] !== 0; ) {
    const end = body.indexOf(0, at + 1);
    if (end < 0) return undefined;
    if (body[at] === 0x43) return body.toString('latin1', at + 1, end); // 'C'
    at = end + 1;
  }
  return undefined;
}
