import { EventEmitter } from 'node:events';
import { Counter, Registry } from 'prom-client';
import { METRICS_COLLECT, METRICS_COLLECTED, METRICS_READY, METRICS_SCRAPE, METRICS_SCRAPED, MetricsHub } from './metrics-hub';

/**
 * A worker process as the hub sees it, over an in-memory channel: with a registry of its own
 * that answers collects as ClusterMetricsLink does, unless told to stay silent.
 */
class Peer extends EventEmitter {
  readonly registry = new Registry();
  readonly requests = new Counter({ name: 'requests_total', help: 'requests', labelNames: ['class'], registers: [this.registry] });
  connected = true;
  silent = false;
  readonly answers: Array<{ id: number; text?: string; error?: string }> = [];

  constructor(hub: MetricsHub) {
    super();
    hub.serve(this);
  }

  isConnected(): boolean {
    return this.connected;
  }

  /** What the hub sends this worker. */
  send(message: Record<string, any>): boolean {
    if (message[METRICS_COLLECT] && !this.silent) {
      const { gather } = message[METRICS_COLLECT];
      void this.registry.getMetricsAsJSON().then((metrics) => this.emit('message', { [METRICS_COLLECTED]: { gather, metrics } }));
    }
    if (message[METRICS_SCRAPED]) this.answers.push(message[METRICS_SCRAPED]);
    return true;
  }

  ready(): void {
    this.emit('message', { [METRICS_READY]: true });
  }

  /** Asks the hub for everyone's figures, as a worker does when Prometheus scrapes it. */
  async scrape(id: number): Promise<{ id: number; text?: string; error?: string }> {
    this.emit('message', { [METRICS_SCRAPE]: { id } });
    while (!this.answers.some((answer) => answer.id === id)) await new Promise((resolve) => setImmediate(resolve));
    return this.answers.find((answer) => answer.id === id)!;
  }
}

describe('MetricsHub', () => {
  it("answers a worker's scrape with the figures of every ready worker, added up", async () => {
    const hub = new MetricsHub();
    const [a, b] = [new Peer(hub), new Peer(hub)];
    a.ready();
    b.ready();
    a.requests.inc({ class: 'manifest' }, 3);
    b.requests.inc({ class: 'manifest' }, 4);
    b.requests.inc({ class: 'blob' }, 2);
    const answer = await b.scrape(1);
    expect(answer.error).toBeUndefined();
    expect(answer.text).toContain('requests_total{class="manifest"} 7');
    expect(answer.text).toContain('requests_total{class="blob"} 2');
  });

  it('does not wait for a worker that is still starting (not ready), nor for one that exits meanwhile', async () => {
    const hub = new MetricsHub();
    const [a, starting, dying] = [new Peer(hub), new Peer(hub), new Peer(hub)];
    a.ready();
    dying.ready();
    dying.silent = true;
    a.requests.inc({ class: 'manifest' }, 5);
    starting.requests.inc({ class: 'manifest' }, 100);
    const scraped = a.scrape(1);
    dying.emit('exit');
    const answer = await scraped;
    expect(answer.text).toContain('requests_total{class="manifest"} 5');
  });

  it('fails the scrape rather than answer part of the figures when a worker cannot collect its own', async () => {
    const hub = new MetricsHub();
    const [a, b] = [new Peer(hub), new Peer(hub)];
    a.ready();
    b.ready();
    b.send = (message: Record<string, any>) => {
      if (message[METRICS_COLLECT]) b.emit('message', { [METRICS_COLLECTED]: { gather: message[METRICS_COLLECT].gather, error: 'the database is away' } });
      return true;
    };
    const answer = await a.scrape(7);
    expect(answer).toEqual({ id: 7, error: 'a worker process could not collect its metrics: the database is away' });
  });
});
