import { Injectable } from '@nestjs/common';
import { ANONYMOUS, AccessControl } from '@wharf/auth';
import { WharfConfig, wharfVersion } from '@wharf/config';

/** What a client (the web UI) needs to know about the server before signing in. */
export interface SystemInfo {
  version: string;
  registryHost: string;
  tls: boolean;
  anonymousAccess: boolean;
}

/** How the request reached the server, as far as the answer depends on it. */
export interface RequestOrigin {
  /** The Host header. */
  host?: string;
  /** The request came over https (directly, or through a trusted proxy that says so). */
  secure: boolean;
}

@Injectable()
export class SystemInfoService {
  constructor(
    private readonly config: WharfConfig,
    private readonly access: AccessControl,
  ) {}

  async info(origin: RequestOrigin): Promise<SystemInfo> {
    const publicUrl = this.config.publicUrl ? new URL(this.config.publicUrl) : undefined;
    return {
      version: wharfVersion(),
      registryHost: publicUrl?.host ?? origin.host ?? `${this.config.host}:${this.config.port}`,
      tls: publicUrl?.protocol === 'https:' || origin.secure,
      anonymousAccess: (await this.access.readableKeys(ANONYMOUS)).length > 0,
    };
  }
}
