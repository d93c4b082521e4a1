import * as path from 'node:path';
import { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { getSystemErrorName } from 'node:util';

/** The native addon (libs/storage/native/sendfile.c), built by scripts/build-native.sh. */
interface NativeSendfile {
  send(socketFd: number, fileFd: number, offset: number, length: number, done: (errno: number | null, sent: number) => void): { cancel(): void };
}

/** Where node-gyp leaves the addon, seen from src/ (ts-node, jest) and from dist/libs/storage/src. */
const ADDON_CANDIDATES = [
  path.join(__dirname, '..', 'native', 'build', 'Release', 'wharf_sendfile.node'),
  path.join(__dirname, '..', '..', '..', '..', 'libs', 'storage', 'native', 'build', 'Release', 'wharf_sendfile.node'),
];

const SHORT_FILE = -1;

export class SendfileError extends Error {
  constructor(
    message: string,
    /** Bytes the client was sent before the failure. */
    readonly sent: number,
  ) {
    super(message);
  }
}

/**
 * File ranges sent to a TCP socket by the kernel (sendfile(2)): no read into user space, no
 * copy through Node's buffers. Available where the addon was built (Linux with a compiler);
 * elsewhere `load` returns undefined and callers stream the file themselves.
 */
export class SocketSendfile {
  private constructor(private readonly native: NativeSendfile) {}

  static load(): SocketSendfile | undefined {
    if (process.platform !== 'linux') return undefined;
    for (const file of ADDON_CANDIDATES) {
      try {
        return new SocketSendfile(require(file) as NativeSendfile);
      } catch {
        // not built there: try the next place
      }
    }
    return undefined;
  }

  /** Whether the kernel can send to this socket: plain TCP (not TLS), open, with a descriptor. */
  canSendTo(socket: Socket | null | undefined): socket is Socket {
    return descriptorOf(socket) !== undefined;
  }

  /**
   * Sends `length` bytes of `fileFd` from `offset` to the socket. Nothing else may write to the
   * socket meanwhile, and everything written before must have left it (see `drained`). A socket
   * that closes meanwhile cancels the transfer.
   */
  send(socket: Socket, fileFd: number, offset: number, length: number): Promise<void> {
    const socketFd = descriptorOf(socket);
    if (socketFd === undefined) return Promise.reject(new SendfileError('the socket has no descriptor the kernel can send to', 0));
    return new Promise((resolve, reject) => {
      const onClose = () => transfer.cancel();
      const transfer = this.native.send(socketFd, fileFd, offset, length, (errno, sent) => {
        socket.off('close', onClose);
        if (errno === null) resolve();
        else reject(new SendfileError(errno === SHORT_FILE ? `the file ended ${length - sent} bytes before the range` : `sendfile: ${getSystemErrorName(-errno)}`, sent));
      });
      socket.once('close', onClose);
    });
  }

  /** Resolves once the socket has handed everything written to it so far to the kernel. */
  static async drained(socket: Socket): Promise<void> {
    // A response's first write corks the socket until the next tick.
    while (socket.writableCorked > 0 || socket.writableLength > 0) {
      if (socket.destroyed) throw new Error('the socket was closed');
      await new Promise<void>((resolve) => {
        const next = () => {
          socket.off('drain', next).off('close', next);
          resolve();
        };
        if (socket.writableNeedDrain) socket.once('drain', next).once('close', next);
        else setImmediate(next);
      });
    }
  }
}

function descriptorOf(socket: Socket | null | undefined): number | undefined {
  if (!socket || socket instanceof TLSSocket || socket.destroyed) return undefined;
  // Node's TCP handle; internal, but the only way to the descriptor of a server-side socket.
  const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}
