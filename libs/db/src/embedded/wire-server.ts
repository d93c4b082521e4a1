import { AddressInfo, Server, Socket, createServer } from 'node:net';
import { StatementAlias, StatementCache } from './statement-cache';

/**
 * The single Postgres backend the server shares among its connections (PGlite has one session).
 * `run` takes one or more complete frontend messages, as Postgres would read them from a socket,
 * and hands the backend's answer to `onData` (in any number of chunks, which may be views into
 * memory the backend reuses) by the time its promise settles. A rejection means the backend is
 * unusable: the server stops and reports it.
 */
export interface WireBackend {
  run(messages: Uint8Array, onData: (chunk: Uint8Array) => void): Promise<void>;
  /** Inside a transaction block, including one that failed and waits for its ROLLBACK. */
  inTransaction(): boolean;
}

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
const SYNC = 0x53; // 'S'
const QUERY = 0x51; // 'Q'
const TERMINATE = 0x58; // 'X'
const ERROR_RESPONSE = 0x45; // 'E', from the backend
const READY_FOR_QUERY = 0x5a; // 'Z', from the backend
const SYNC_MESSAGE = Buffer.from([SYNC, 0, 0, 0, 4]);
const ROLLBACK_MESSAGE = Buffer.concat([Buffer.from([QUERY, 0, 0, 0, 13]), Buffer.from('ROLLBACK\0')]);

class Session implements StatementAlias {
  alias?: string;
  /** Bytes of a message still arriving. */
  partial = Buffer.alloc(0);
  started = false;
  /** The startup message, run on its own (the backend answers it apart from other messages). */
  startup?: Buffer;
  /** Complete messages not yet run. */
  messages: Buffer[] = [];
  /** Extended-query messages run since the last Sync: the unnamed statement and portal are this session's. */
  groupOpen = false;
  /** The client said Terminate, or its socket closed. */
  ended = false;
  queued = false;

  constructor(readonly socket: Socket) {}

  get hasWork(): boolean {
    return this.startup !== undefined || this.messages.length > 0 || this.ended;
  }
}

/**
 * A Postgres wire-protocol server for one backend and several connections, so Wharf's pool can
 * keep more than one query on its way: while Wharf's thread handles one answer, the backend
 * already runs the next query. Connections take turns between whole units of work: a simple
 * Query, or extended-query messages up to their Sync, all that have arrived run in one call, and
 * their answer leaves in one write. A connection that leaves a transaction block open (or is
 * between messages of one extended query) keeps the backend until it closes it: the others
 * wait, as they would for a row lock. What a connection sets for its session (SET, named
 * prepared statements, LISTEN) is seen by all: Wharf uses none of these on the embedded
 * database. (PGlite's own socket server, @electric-sql/pglite-socket, ran each message in a
 * call of its own and wrote each piece of an answer apart: blob lookups through it ran at about
 * half the rate of the same Wharf on Postgres, through this one at 0.9-1.2 of it; measured
 * 2026-12-02.)
 */
export class WireServer {
  private readonly server: Server;
  private readonly sessions = new Set<Session>();
  private readonly waiting: Session[] = [];
  /** The session the backend is held for, between the units of its transaction. */
  private owner?: Session;
  private pumping?: Promise<void>;
  private failed = false;
  /** The backend's transaction status from its last ReadyForQuery: idle, in a transaction, in a failed one. */
  private status: 'I' | 'T' | 'E' = 'I';
  /** An error since the last ReadyForQuery: the backend skips extended-query messages up to the next Sync. */
  private skipping = false;

  constructor(
    private readonly backend: WireBackend,
    private readonly onFatal: (err: unknown) => void,
    private readonly statements: StatementCache | undefined = new StatementCache(),
  ) {
    this.server = createServer((socket) => this.accept(socket));
  }

  listen(host: string, port = 0): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  /** Stops accepting, ends every connection (a transaction left open is rolled back) and waits for the backend to be idle. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const session of this.sessions) {
      session.socket.destroy();
      this.end(session);
    }
    await this.pump();
    await closed;
  }

  get connections(): number {
    return this.sessions.size;
  }

  private accept(socket: Socket): void {
    if (this.failed) {
      socket.destroy();
      return;
    }
    const session = new Session(socket);
    this.sessions.add(session);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.receive(session, chunk));
    socket.on('error', () => this.end(session));
    socket.on('close', () => this.end(session));
  }

  private end(session: Session): void {
    if (session.ended) return;
    session.ended = true;
    this.enqueue(session);
  }

  private receive(session: Session, chunk: Buffer): void {
    if (session.ended) return;
    let buffer = session.partial.length > 0 ? Buffer.concat([session.partial, chunk]) : chunk;
    while (!session.ended) {
      if (!session.started) {
        // Startup-phase messages have no type byte: length, then a request code or protocol version.
        if (buffer.length < 8) break;
        const length = buffer.readInt32BE(0);
        if (length < 8) {
          this.refuse(session);
          return;
        }
        if (buffer.length < length) break;
        const code = buffer.readInt32BE(4);
        const message = buffer.subarray(0, length);
        buffer = buffer.subarray(length);
        if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
          session.socket.write('N');
        } else if (code === CANCEL_REQUEST) {
          // Cancelling needs a second session; there is none. The client only waits for the close.
          session.socket.end();
          this.end(session);
        } else {
          session.started = true;
          session.startup = Buffer.from(message);
        }
        continue;
      }
      if (buffer.length < 5) break;
      const length = 1 + buffer.readInt32BE(1);
      if (length < 5) {
        this.refuse(session);
        return;
      }
      if (buffer.length < length) break;
      const message = buffer.subarray(0, length);
      buffer = buffer.subarray(length);
      // PGlite would take Terminate for the end of its only session: it ends this connection alone.
      if (message[0] === TERMINATE) {
        session.socket.end();
        this.end(session);
      } else {
        session.messages.push(message);
      }
    }
    // What stays is a message still arriving: copied, so the socket's chunk can go.
    session.partial = buffer.length > 0 ? Buffer.from(buffer) : Buffer.alloc(0);
    this.enqueue(session);
  }

  /** Not the Postgres protocol: the connection goes, with what it sent. */
  private refuse(session: Session): void {
    session.partial = Buffer.alloc(0);
    session.socket.destroy();
    this.end(session);
  }

  private enqueue(session: Session): void {
    if (!session.queued && session !== this.owner && session.hasWork) {
      session.queued = true;
      this.waiting.push(session);
    }
    void this.pump();
  }

  /** Runs units of work until none can run; one loop at a time. */
  private pump(): Promise<void> {
    // `finally` runs in a later microtask, so `pumping` is set before it is cleared.
    this.pumping ??= this.drain().finally(() => {
      this.pumping = undefined;
    });
    return this.pumping;
  }

  private async drain(): Promise<void> {
    try {
      for (;;) {
        if (this.failed) return;
        if (!this.owner && this.statements) await this.chores(this.statements);
        const session = this.next();
        if (!session) return;
        await this.step(session);
      }
    } catch (err) {
      this.fail(err);
    }
  }

  /** The statement cache's work (preparing, closing), while no connection holds the backend. */
  private async chores(statements: StatementCache): Promise<void> {
    while (!this.backend.inTransaction()) {
      const chore = statements.nextChore();
      if (!chore) return;
      chore.done(await this.execute(chore.messages));
    }
  }

  private next(): Session | undefined {
    if (this.failed) return undefined;
    if (this.owner) return this.owner.hasWork ? this.owner : undefined;
    const session = this.waiting.shift();
    if (session) session.queued = false;
    return session;
  }

  private async step(session: Session): Promise<void> {
    // A client gone drops what it sent last, as Postgres does on its connection's end.
    if (session.ended) return this.release(session);
    const answers: Buffer[] = [];
    if (session.startup) {
      const startup = session.startup;
      session.startup = undefined;
      answers.push(await this.execute(startup));
    } else if (session.messages.length > 0) {
      const messages = session.messages;
      session.messages = [];
      const last = messages[messages.length - 1][0];
      session.groupOpen = last !== SYNC && last !== QUERY;
      const steps = this.statements ? this.statements.rewrite(session, messages, this.status === 'E') : [{ run: messages.length === 1 ? messages[0] : Buffer.concat(messages) }];
      for (const step of steps) {
        // An answer given in the backend's place, unless the backend would have skipped its message.
        if ('answer' in step) {
          if (!this.skipping) answers.push(step.answer);
        } else {
          answers.push(await this.execute(step.run));
        }
      }
    } else {
      return;
    }
    const answer = answers.length === 1 ? answers[0] : Buffer.concat(answers);
    if (answer.length > 0 && !session.socket.destroyed && session.socket.writable) session.socket.write(answer);
    this.owner = session.groupOpen || this.backend.inTransaction() ? session : undefined;
    if (session !== this.owner) this.enqueue(session);
  }

  /** Runs messages, returns the whole answer (copied out of the backend's memory) after reading it. */
  private async execute(messages: Buffer): Promise<Buffer> {
    const chunks: Buffer[] = [];
    await this.backend.run(messages, (chunk) => chunks.push(Buffer.from(chunk)));
    const answer = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
    // Whole messages: the backend flushes its output at the end of every call.
    for (let at = 0, length = 0; at + 5 <= answer.length; at += 1 + length) {
      length = answer.readInt32BE(at + 1);
      if (length < 4) throw new Error(`the backend answered a message of length ${length}`);
      const type = answer[at];
      if (type === READY_FOR_QUERY) {
        this.status = String.fromCharCode(answer[at + 5]) as 'I' | 'T' | 'E';
        this.skipping = false;
      } else if (type === ERROR_RESPONSE) {
        this.skipping = true;
      }
      this.statements?.observe(type, answer.subarray(at + 5, at + 1 + length));
    }
    return answer;
  }

  private async release(session: Session): Promise<void> {
    if (this.owner === session) {
      if (session.groupOpen) await this.execute(SYNC_MESSAGE);
      if (this.backend.inTransaction()) await this.execute(ROLLBACK_MESSAGE);
      session.groupOpen = false;
      this.owner = undefined;
    }
    session.messages = [];
    session.startup = undefined;
    this.sessions.delete(session);
    if (!session.socket.destroyed) session.socket.destroy();
  }

  private fail(err: unknown): void {
    if (this.failed) return;
    this.failed = true;
    for (const session of this.sessions) session.socket.destroy();
    this.server.close();
    this.onFatal(err);
  }
}
