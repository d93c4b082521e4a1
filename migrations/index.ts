import { InitialSchema1763900000000 } from './1763900000000-initial-schema';
import { Security1763910000000 } from './1763910000000-security';
import { VirtualRepositories1764600000000 } from './1764600000000-virtual-repositories';
import { Promotions1764700000000 } from './1764700000000-promotions';
import { RemoteDownloadLeases1764800000000 } from './1764800000000-remote-download-leases';
import { ServerSettings1764900000000 } from './1764900000000-server-settings';
import { GarbageCollection1765000000000 } from './1765000000000-garbage-collection';
import { StorageUsage1765100000000 } from './1765100000000-storage-usage';
import { PullTimes1765200000000 } from './1765200000000-pull-times';
import { UiSessions1765300000000 } from './1765300000000-ui-sessions';
import { ImageNamesInByteOrder1765400000000 } from './1765400000000-image-names-in-byte-order';
import { AuditEvents1765500000000 } from './1765500000000-audit-events';
import { Webhooks1765510000000 } from './1765510000000-webhooks';
import { RequestLimits1765600000000 } from './1765600000000-request-limits';

/** Every migration, in order. Listed explicitly so the same list works from ts and from dist. */
export const MIGRATIONS = [
  InitialSchema1763900000000,
  Security1763910000000,
  VirtualRepositories1764600000000,
  Promotions1764700000000,
  RemoteDownloadLeases1764800000000,
  ServerSettings1764900000000,
  GarbageCollection1765000000000,
  StorageUsage1765100000000,
  PullTimes1765200000000,
  UiSessions1765300000000,
  ImageNamesInByteOrder1765400000000,
  AuditEvents1765500000000,
  Webhooks1765510000000,
  RequestLimits1765600000000,
];
