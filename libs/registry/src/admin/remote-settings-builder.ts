import { BadRequestException, Injectable } from '@nestjs/common';
import { SecretBox } from '@wharf/auth';
import { RemoteSettings, readRemoteSettings, remoteDefaults } from '../remote/remote-settings';
import { parseRealmAllowEntry } from '../remote/upstream/token-realm-policy';

/** The remote-only fields of the repository REST API, as clients send them. */
export interface RemoteFields {
  url?: string;
  username?: string;
  password?: string;
  metadataRetrievalCachePeriod?: number;
  offline?: boolean;
  enableTokenAuthentication?: boolean;
  connectTimeoutMillis?: number;
  socketTimeoutMillis?: number;
  includesPattern?: string;
  excludesPattern?: string;
  tokenRealmAllowList?: string[];
  libraryPrefix?: boolean;
  cacheRetentionDays?: number;
  maxCacheBytes?: number;
}

export const REMOTE_FIELDS: ReadonlyArray<keyof RemoteFields> = [
  'url',
  'username',
  'password',
  'metadataRetrievalCachePeriod',
  'offline',
  'enableTokenAuthentication',
  'connectTimeoutMillis',
  'socketTimeoutMillis',
  'includesPattern',
  'excludesPattern',
  'tokenRealmAllowList',
  'libraryPrefix',
  'cacheRetentionDays',
  'maxCacheBytes',
];

const MASK = '********';

/** Turns REST fields into stored settings (password sealed) and stored settings into a masked view. */
@Injectable()
export class RemoteSettingsBuilder {
  constructor(private readonly secrets: SecretBox) {}

  /** New settings from `fields` over `existing` (or the defaults). An empty password removes it. */
  build(fields: RemoteFields, existing?: Record<string, unknown>): RemoteSettings {
    // A new remote's url decides the Docker Hub defaults (realm allow list, library/) unless given.
    const base = existing ? readRemoteSettings(existing) : remoteDefaults(fields.url);
    const { password, ...plain } = fields;
    const next: RemoteSettings = { ...base, ...stripUndefined(plain) };
    next.url = next.url.replace(/\/+$/, '');
    if (fields.tokenRealmAllowList !== undefined) next.tokenRealmAllowList = realmAllowList(fields.tokenRealmAllowList);
    if (password === '') delete next.passwordEncrypted;
    else if (password !== undefined) next.passwordEncrypted = this.secrets.encrypt(password);
    return next;
  }

  view(settings: Record<string, unknown>): Record<string, unknown> {
    const { passwordEncrypted, ...rest } = readRemoteSettings(settings);
    return { ...rest, password: passwordEncrypted ? MASK : '' };
  }
}

/**
 * Entries stored as the host or host:port they name (an origin such as https://auth.example.com
 * becomes auth.example.com:443), so what GET shows is what is matched; an entry that names no
 * host is refused rather than stored to be silently never matched.
 */
function realmAllowList(entries: string[]): string[] {
  const hosts = entries.map((entry) => {
    const parsed = parseRealmAllowEntry(entry);
    if ('problem' in parsed) throw new BadRequestException(`tokenRealmAllowList: "${entry.slice(0, 200)}" ${parsed.problem}`);
    return parsed.host;
  });
  return [...new Set(hosts)];
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
