import cluster from 'node:cluster';
import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { METRICS_COLLECT, METRICS_COLLECTED, METRICS_READY, METRICS_SCRAPE, METRICS_SCRAPED } from '../cluster/metrics-hub';
import { MetricsRegistry } from './metrics-registry';

/** The primary answers within its own gather timeout; this one only guards against a primary gone silent. */
const SCRAPE_TIMEOUT_MS = 15_000;

interface Waiter {
  resolve(text: string): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * A worker process's side of the primary's MetricsHub: sends this worker's figures when the
 * primary collects, and asks the primary for everyone's when Prometheus scrapes this worker.
 * Does nothing outside a cluster worker.
 */
@Injectable()
export class ClusterMetricsLink implements OnModuleInit, OnModuleDestroy {
  private readonly waiting = new Map<number, Waiter>();
  private nextScrape = 1;

  constructor(private readonly registry: MetricsRegistry) {}

  /** Whether scrapes must be answered with every worker's figures. */
  get clustered(): boolean {
    return cluster.isWorker;
  }

  onModuleInit(): void {
    if (!this.clustered) return;
    process.on('message', this.onMessage);
    process.once('disconnect', this.onDisconnect);
    process.send?.({ [METRICS_READY]: true });
  }

  onModuleDestroy(): void {
    process.off('message', this.onMessage);
    process.off('disconnect', this.onDisconnect);
  }

  /** Every worker's figures, added up by the primary, in Prometheus's text format. */
  scrape(): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      if (!process.connected || !process.send) return reject(new Error('the primary process is gone'));
      const id = this.nextScrape++;
      const timer = setTimeout(() => this.settle(id, { error: `the primary process did not answer within ${SCRAPE_TIMEOUT_MS} ms` }), SCRAPE_TIMEOUT_MS);
      this.waiting.set(id, { resolve, reject, timer });
      process.send({ [METRICS_SCRAPE]: { id } }, undefined, undefined, (err) => err && this.settle(id, { error: err.message }));
    });
  }

  private readonly onMessage = (message: Record<string, any> | undefined): void => {
    if (message?.[METRICS_COLLECT]) void this.collect(message[METRICS_COLLECT].gather);
    else if (message?.[METRICS_SCRAPED]) this.settle(message[METRICS_SCRAPED].id, message[METRICS_SCRAPED]);
  };

  private readonly onDisconnect = (): void => {
    for (const id of [...this.waiting.keys()]) this.settle(id, { error: 'the primary process is gone' });
  };

  private async collect(gather: number): Promise<void> {
    let reply: { gather: number; metrics?: object[]; error?: string };
    try {
      reply = { gather, metrics: await this.registry.getMetricsAsJSON() };
    } catch (err) {
      reply = { gather, error: (err as Error).message };
    }
    if (process.connected) process.send?.({ [METRICS_COLLECTED]: reply });
  }

  private settle(id: number, answer: { text?: string; error?: string }): void {
    const waiter = this.waiting.get(id);
    if (!waiter) return;
    this.waiting.delete(id);
    clearTimeout(waiter.timer);
    if (answer.error !== undefined) waiter.reject(new Error(answer.error));
    else waiter.resolve(answer.text ?? '');
  }
}
