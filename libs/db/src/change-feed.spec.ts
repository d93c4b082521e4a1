import * as net from 'node:net';
import { DataSource } from 'typeorm';
import { ChangeFeed } from './change-feed';

const NO_TRANSACTION = { afterTransaction: () => false };

describe('ChangeFeed', () => {
  it('reconnects once per lost connection, not once per event (no runaway reconnects)', async () => {
    // A "database" that accepts connections and drops them at once: every attempt fails.
    let attempts = 0;
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
      attempts += 1;
      sockets.add(socket);
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    const feed = new ChangeFeed({ url: `postgres://postgres@127.0.0.1:${port}/none`, shared: true }, {} as DataSource, NO_TRANSACTION);
    await feed.onModuleInit();
    expect(feed.reliable).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 3_500));
    await feed.onModuleDestroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    // One attempt at start and one per second after: 4 or 5, where the doubling bug made 15+.
    expect(attempts).toBeGreaterThanOrEqual(3);
    expect(attempts).toBeLessThanOrEqual(5);
  }, 10_000);

  it('delivers published topics to local listeners, and is reliable when not shared', async () => {
    const queries: unknown[][] = [];
    const feed = new ChangeFeed({ url: 'postgres://unused', shared: false }, { query: async (...args: unknown[]) => queries.push(args) } as unknown as DataSource, NO_TRANSACTION);
    const heard: string[] = [];
    feed.on('tags', () => heard.push('tags'));
    feed.on('security', () => heard.push('security'));
    await feed.publish('tags');
    expect(heard).toEqual(['tags']);
    expect(feed.reliable).toBe(true);
    expect(queries).toHaveLength(0);
  });
});
