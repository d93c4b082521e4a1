import { createHash, timingSafeEqual } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { WharfConfig } from '@wharf/config';
import { Express, Request, Response } from 'express';
import { ClusterMetricsLink } from './cluster-metrics-link';
import { MetricsRegistry } from './metrics-registry';

/**
 * `GET /metrics` in Prometheus's text format, for a scraper rather than a user: on Express
 * itself, ahead of Nest's router, so none of the REST API's machinery (principals, sessions,
 * CSRF, problem bodies, OpenAPI) applies. It has one credential of its own,
 * WHARF_METRICS_TOKEN as a bearer token, or none. With worker processes the answer covers all
 * of them, whichever one is asked.
 */
@Injectable()
export class MetricsEndpoint {
  private readonly logger = new Logger('Metrics');
  private readonly tokenDigest?: Buffer;

  constructor(
    config: WharfConfig,
    private readonly registry: MetricsRegistry,
    private readonly cluster: ClusterMetricsLink,
  ) {
    this.tokenDigest = config.metricsToken === undefined ? undefined : digest(config.metricsToken);
  }

  attach(app: Express): void {
    app.get('/metrics', (req, res) => void this.serve(req, res));
  }

  private async serve(req: Request, res: Response): Promise<void> {
    res.set('Cache-Control', 'no-store');
    if (!this.authorized(req)) {
      res.status(401).set('WWW-Authenticate', 'Bearer realm="wharf-metrics"').type('text/plain').send('/metrics needs Authorization: Bearer <WHARF_METRICS_TOKEN>\n');
      return;
    }
    let text: string;
    try {
      text = this.cluster.clustered ? await this.cluster.scrape() : await this.registry.metrics();
    } catch (err) {
      this.logger.warn({ msg: 'metrics not gathered', error: (err as Error).message });
      res
        .status(503)
        .type('text/plain')
        .send(`metrics not gathered: ${(err as Error).message}\n`);
      return;
    }
    // Written as is: Express's send() would reorder the parameters of Prometheus's content type.
    res.status(200).setHeader('Content-Type', this.registry.contentType);
    res.end(text);
  }

  /** Compared as digests, in constant time: the token's length and contents do not show in the timing. */
  private authorized(req: Request): boolean {
    if (!this.tokenDigest) return true;
    const match = /^Bearer +(\S+) *$/i.exec(req.headers.authorization ?? '');
    return !!match && timingSafeEqual(digest(match[1]), this.tokenDigest);
  }
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
