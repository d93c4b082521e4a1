import { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Socket } from 'node:net';

// Node's own answers for what its parser refuses (see its socketOnError).
const REFUSALS: Record<string, string> = {
  HPE_HEADER_OVERFLOW: 'HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n',
  HPE_CHUNK_EXTENSIONS_OVERFLOW: 'HTTP/1.1 413 Payload Too Large\r\nConnection: close\r\n\r\n',
  ERR_HTTP_REQUEST_TIMEOUT: 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n',
};
const BAD_REQUEST = 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n';

/**
 * What the server does when its parser cannot read the bytes on a connection. Node answers a
 * bare 400 at once and closes; but when the bytes follow a request that arrived whole (a body
 * longer than its Content-Length, read as the start of a next request), that 400 went out
 * before the request's own answer, which was then lost. Here such requests are answered first,
 * with `Connection: close`, and the connection closes after them; the garbage is not answered.
 * A parse error inside a request (its body cut or malformed) still gets Node's answer.
 */
export class ClientErrorPolicy {
  /** Responses not yet finished, per connection (pipelined requests may queue several). */
  private readonly inFlight = new WeakMap<Socket, Set<ServerResponse>>();
  private readonly closing = new WeakSet<Socket>();

  /** Call after every other 'request' listener is in place (the registry lane replaces them). */
  attach(server: Server): void {
    server.on('request', (req: IncomingMessage, res: ServerResponse) => this.track(req.socket, res));
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => this.onClientError(err, socket));
  }

  private track(socket: Socket, res: ServerResponse): void {
    const responses = this.inFlight.get(socket) ?? new Set<ServerResponse>();
    this.inFlight.set(socket, responses);
    responses.add(res);
    res.once('close', () => responses.delete(res));
  }

  private onClientError(err: NodeJS.ErrnoException, socket: Socket): void {
    // The parser stays broken: every later read on this socket reports again.
    if (this.closing.has(socket)) return;
    const pending = [...(this.inFlight.get(socket) ?? [])].filter((res) => !res.writableFinished);
    if (pending.length > 0 && pending.every((res) => res.req.complete)) {
      this.closing.add(socket);
      for (const res of pending) if (!res.headersSent) res.setHeader('Connection', 'close');
      let left = pending.length;
      for (const res of pending) res.once('close', () => --left === 0 && socket.destroy());
      return;
    }
    if (socket.writable && pending.every((res) => !res.headersSent)) socket.write(REFUSALS[err.code ?? ''] ?? BAD_REQUEST);
    socket.destroy(err);
  }
}
