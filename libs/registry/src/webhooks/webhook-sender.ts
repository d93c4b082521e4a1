import { createHmac } from 'node:crypto';
import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { WharfConfig } from '@wharf/config';
import { Agent } from 'undici';
import { ENVELOPE_MEDIA_TYPE } from './webhook-envelope';
import { guardedLookup, urlProblem } from './webhook-target-policy';

/** One attempt's whole budget: connecting, sending, the receiver's answer. */
export const ATTEMPT_TIMEOUT_MS = 10_000;
/** What of a refusing receiver's body is kept as the delivery's last error. */
const ERROR_BODY_BYTES = 512;

export interface Delivery {
  url: string;
  /** The webhook's secret, for the signature. */
  secret: string;
  /** The exact bytes sent and signed. */
  body: Buffer;
  headers: Record<string, string>;
}

export type AttemptResult = { ok: true; status: number } | { ok: false; status: number | null; error: string };

/**
 * Sends webhook deliveries: POST of the envelope, signed with the webhook's secret
 * (`X-Wharf-Signature: sha256=<hex HMAC-SHA256 of the body>`, as GitHub's X-Hub-Signature-256).
 * Its own connection pool, whose lookup refuses private addresses (see webhook-target-policy);
 * redirects are not followed. Any 2xx is a delivery; everything else, a timeout included, a
 * failed attempt with its reason.
 */
@Injectable()
export class WebhookSender implements OnModuleDestroy {
  private readonly agent: Agent;

  constructor(private readonly config: WharfConfig) {
    this.agent = new Agent({
      connect: { timeout: ATTEMPT_TIMEOUT_MS, lookup: guardedLookup(config.webhookAllowPrivate) },
      headersTimeout: ATTEMPT_TIMEOUT_MS,
      bodyTimeout: ATTEMPT_TIMEOUT_MS,
    });
  }

  async onModuleDestroy(): Promise<void> {
    await this.agent.destroy();
  }

  async send(delivery: Delivery, cancel: AbortSignal): Promise<AttemptResult> {
    // The text is checked again: a webhook saved while private targets were allowed is refused once they are not.
    const problem = urlProblem(delivery.url, this.config.webhookAllowPrivate);
    if (problem) return { ok: false, status: null, error: `refused: the URL ${problem}` };
    const url = new URL(delivery.url);
    try {
      const { statusCode, body } = await this.agent.request({
        origin: url.origin,
        path: url.pathname + url.search,
        method: 'POST',
        headers: {
          ...delivery.headers,
          'content-type': ENVELOPE_MEDIA_TYPE,
          'x-wharf-signature': `sha256=${signature(delivery.secret, delivery.body)}`,
        },
        body: delivery.body,
        signal: AbortSignal.any([cancel, AbortSignal.timeout(ATTEMPT_TIMEOUT_MS)]),
      });
      if (statusCode >= 200 && statusCode < 300) {
        await body.dump();
        return { ok: true, status: statusCode };
      }
      return { ok: false, status: statusCode, error: `HTTP ${statusCode}${await excerpt(body)}` };
    } catch (err) {
      return { ok: false, status: null, error: describe(err) };
    }
  }
}

/** The signature receivers check: hex HMAC-SHA256 of the exact body bytes under the webhook's secret. */
export function signature(secret: string, body: Buffer): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

async function excerpt(body: AsyncIterable<Buffer> & { destroy(): unknown }): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= ERROR_BODY_BYTES) break;
    }
  } catch {
    // The status says enough.
  } finally {
    body.destroy();
  }
  const text = Buffer.concat(chunks).subarray(0, ERROR_BODY_BYTES).toString('utf8').replace(/\s+/g, ' ').trim();
  return text ? `: ${text}` : '';
}

function describe(err: unknown): string {
  const error = err as { name?: string; code?: string; message?: string; cause?: { code?: string; message?: string } };
  if (error.name === 'TimeoutError' || error.code === 'UND_ERR_HEADERS_TIMEOUT' || error.code === 'UND_ERR_CONNECT_TIMEOUT') {
    return `no answer within ${ATTEMPT_TIMEOUT_MS / 1000} s`;
  }
  const code = error.code ?? error.cause?.code;
  if (code === 'WHARF_PRIVATE_TARGET') return `refused: ${error.message ?? error.cause?.message}`;
  const message = error.cause?.message ?? error.message ?? String(err);
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}
