import { randomBytes } from 'node:crypto';
import { FileHandle, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest, Agent, IncomingMessage, Server } from 'node:http';
import { AddressInfo, Socket, connect, createServer as createTcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileRangeStream } from './file-range-stream';
import { SendfileError, SocketSendfile } from './socket-sendfile';

/** A connected pair over loopback: the server's end (where Wharf sends) and the client's. */
async function socketPair(): Promise<{ server: Socket; client: Socket; close(): void }> {
  const listener = createTcpServer();
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<Socket>((resolve) => listener.once('connection', resolve));
  const client = connect((listener.address() as AddressInfo).port, '127.0.0.1');
  const server = await accepted;
  listener.close();
  // A reset by the client is an 'error' on the server's end; the test reads it from the transfer.
  server.on('error', () => undefined);
  client.on('error', () => undefined);
  return { server, client, close: () => (server.destroy(), client.destroy()) };
}

function collect(socket: Socket, until: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  return new Promise((resolve, reject) => {
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= until) resolve(Buffer.concat(chunks));
    });
    socket.on('error', reject);
  });
}

describe('SocketSendfile', () => {
  let dir: string;
  let handle: FileHandle;
  // Larger than a loopback socket's buffer, so the transfer must wait for the reader.
  const data = randomBytes(24 * 1024 * 1024 + 321);
  const sendfile = SocketSendfile.load();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wharf-sendfile-'));
    await writeFile(join(dir, 'blob'), data);
    handle = await open(join(dir, 'blob'), 'r');
  });
  afterAll(async () => {
    await handle.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('is built on this Linux machine (npm test builds it with scripts/build-native.sh)', () => {
    expect(process.platform).toBe('linux');
    expect(sendfile).toBeInstanceOf(SocketSendfile);
  });

  it('sends a range of the file to a TCP socket, waiting for a reader that pauses', async () => {
    const pair = await socketPair();
    try {
      const start = 1000;
      const length = data.length - 2000;
      pair.client.pause();
      const received = collect(pair.client, length);
      const sent = sendfile!.send(pair.server, handle.fd, start, length);
      setTimeout(() => pair.client.resume(), 100);
      await sent;
      expect((await received).equals(data.subarray(start, start + length))).toBe(true);
    } finally {
      pair.close();
    }
  });

  it('fails, saying so, when the file ends before the range', async () => {
    const pair = await socketPair();
    try {
      const failure = sendfile!.send(pair.server, handle.fd, data.length - 10, 20);
      await expect(failure).rejects.toThrow('the file ended 10 bytes before the range');
    } finally {
      pair.close();
    }
  });

  it('stops when the socket is closed mid-transfer, reporting what was sent', async () => {
    const pair = await socketPair();
    pair.client.pause(); // the transfer fills the socket and waits
    const sent = sendfile!.send(pair.server, handle.fd, 0, data.length);
    setTimeout(() => pair.server.destroy(), 50);
    const error = await sent.then(
      () => undefined,
      (err: unknown) => err,
    );
    pair.close();
    expect(error).toBeInstanceOf(SendfileError);
    expect((error as SendfileError).message).toBe('sendfile: ECANCELED');
    expect((error as SendfileError).sent).toBeGreaterThan(0);
    expect((error as SendfileError).sent).toBeLessThan(data.length);
  });

  it('fails when the client goes away', async () => {
    const pair = await socketPair();
    pair.client.pause();
    const sent = sendfile!.send(pair.server, handle.fd, 0, data.length);
    // The client resets the connection; the server's socket is left to find out by itself.
    setTimeout(() => pair.client.resetAndDestroy(), 50);
    await expect(sent).rejects.toThrow(/^sendfile: (EPIPE|ECONNRESET|ECANCELED)$/);
    pair.close();
  });

  it('cannot send to a destroyed socket', async () => {
    const pair = await socketPair();
    pair.close();
    expect(sendfile!.canSendTo(pair.server)).toBe(false);
    await expect(sendfile!.send(pair.server, handle.fd, 0, 1)).rejects.toThrow('the socket has no descriptor the kernel can send to');
  });

  describe('as an HTTP response body (FileRangeStream.sendInto)', () => {
    let server: Server;
    let agent: Agent;
    let port: number;

    beforeAll(async () => {
      server = createServer(async (req, res) => {
        const [start, end] = (req.url!.slice(1).split('-') as [string, string]).map(Number);
        res.writeHead(200, { 'content-length': String(end - start + 1), 'x-range': `${start}-${end}` });
        await new FileRangeStream(await open(join(dir, 'blob'), 'r'), start, end).sendInto(res, sendfile);
        res.end();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as AddressInfo).port;
      agent = new Agent({ keepAlive: true, maxSockets: 1 });
    });
    afterAll(async () => {
      agent.destroy();
      await new Promise((resolve) => server.close(resolve));
    });

    function get(path: string): Promise<{ res: IncomingMessage; body: Buffer; socket: Socket }> {
      return new Promise((resolve, reject) => {
        const req = httpRequest({ port, host: '127.0.0.1', path, agent }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({ res, body: Buffer.concat(chunks), socket: req.socket! }));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end();
      });
    }

    it('sends the headers first, then the range, and keeps the connection for the next request', async () => {
      const first = await get('/5-4000000');
      expect(first.res.headers['x-range']).toBe('5-4000000');
      expect(first.body.equals(data.subarray(5, 4_000_001))).toBe(true);
      const second = await get(`/0-${data.length - 1}`);
      expect(second.body.equals(data)).toBe(true);
      expect(second.socket).toBe(first.socket); // one keep-alive connection carried both
    });
  });
});
