import { createHmac, timingSafeEqual } from 'node:crypto';
import * as http from 'node:http';
import { AddressInfo } from 'node:net';

export interface ReceivedDelivery {
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** The body parsed: Distribution's envelope, `{events: [...]}`. */
  json: any;
  receivedAt: number;
}

/**
 * A webhook receiver on loopback (node:http), as a CI system or chat bridge would run one: it
 * records every POST and answers `status`, or holds requests without answering (`hold`), or is
 * stopped (connections refused) and started again on the same port.
 */
export class WebhookReceiver {
  readonly received: ReceivedDelivery[] = [];
  /** Requests being held open, unanswered. */
  held = 0;
  status = 204;
  hold = false;
  private server?: http.Server;
  private readonly open = new Set<http.ServerResponse>();
  port = 0;

  static async start(port = 0): Promise<WebhookReceiver> {
    const receiver = new WebhookReceiver();
    await receiver.listen(port);
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks/wharf`;
  }

  /** Listens (again) on `port`, or on the port it had. */
  async listen(port = this.port): Promise<void> {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        let json: unknown;
        try {
          json = JSON.parse(body.toString('utf8'));
        } catch {
          json = undefined;
        }
        this.received.push({ headers: req.headers, body, json, receivedAt: Date.now() });
        if (this.hold) {
          this.held += 1;
          this.open.add(res);
          res.on('close', () => {
            this.open.delete(res);
            this.held -= 1;
          });
          return;
        }
        res.writeHead(this.status).end();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  /** Stops listening: new connections are refused; held requests are cut. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    for (const res of this.open) res.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Every event received, in arrival order (each body is an envelope of one or more). */
  events(): any[] {
    return this.received.flatMap((delivery) => delivery.json?.events ?? []);
  }
}

/** Whether `X-Wharf-Signature` is `sha256=<hex HMAC-SHA256 of the body under secret>`. */
export function signatureValid(delivery: ReceivedDelivery, secret: string): boolean {
  const sent = String(delivery.headers['x-wharf-signature'] ?? '');
  const expected = `sha256=${createHmac('sha256', secret).update(delivery.body).digest('hex')}`;
  return sent.length === expected.length && timingSafeEqual(Buffer.from(sent), Buffer.from(expected));
}
