import { Injectable, Logger, OnModuleDestroy, Optional } from '@nestjs/common';
import { SecretBox } from '@wharf/auth';
import { RepositoryEntity } from '@wharf/db';
import { NO_REGISTRY_METRICS, RegistryMetrics } from '../metrics/registry-metrics';
import { readRemoteSettings } from './remote-settings';
import { CircuitBreaker, CircuitState, UpstreamClient } from './upstream';

const BREAKER_FAILURES = 5;
const BREAKER_OPEN_MS = 30_000;

/**
 * One upstream client (connection pool, token cache, circuit breaker) per remote repository,
 * rebuilt when the repository's settings change.
 */
@Injectable()
export class UpstreamClients implements OnModuleDestroy {
  private readonly logger = new Logger('Upstream');
  private readonly clients = new Map<string, { version: number; key: string; client: UpstreamClient }>();
  private readonly metrics: RegistryMetrics;

  constructor(
    private readonly secrets: SecretBox,
    @Optional() metrics?: RegistryMetrics,
  ) {
    this.metrics = metrics ?? NO_REGISTRY_METRICS;
  }

  /** Each remote's circuit breaker state in this process (remotes not asked since the start have none). */
  circuits(): Array<{ repository: string; state: CircuitState }> {
    return [...this.clients.values()].map(({ key, client }) => ({ repository: key, state: client.circuitState }));
  }

  for(repo: RepositoryEntity): UpstreamClient {
    const version = repo.updatedAt.getTime();
    const existing = this.clients.get(repo.id);
    if (existing?.version === version) return existing.client;
    void existing?.client.close();
    const settings = readRemoteSettings(repo.settings);
    const client = new UpstreamClient(
      {
        url: settings.url.replace(/\/+$/, ''),
        username: settings.username,
        password: settings.passwordEncrypted ? this.secrets.decrypt(settings.passwordEncrypted) : undefined,
        enableTokenAuthentication: settings.enableTokenAuthentication,
        connectTimeoutMs: settings.connectTimeoutMillis,
        socketTimeoutMs: settings.socketTimeoutMillis,
        tokenRealmAllowList: settings.tokenRealmAllowList,
      },
      {
        breaker: new CircuitBreaker({ failureThreshold: BREAKER_FAILURES, openMs: BREAKER_OPEN_MS }),
        logger: { warn: (obj: object) => this.logger.warn({ remote: repo.key, ...obj }) },
        onFailure: () => this.metrics.upstreamError(repo.key),
      },
    );
    this.clients.set(repo.id, { version, key: repo.key, client });
    return client;
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all([...this.clients.values()].map(({ client }) => client.close()));
  }
}
