import { Injectable } from '@nestjs/common';
import { ClsService } from 'nestjs-cls';

/**
 * Who is behind the work in progress, as the HTTP layer knows it. Read when an audit row is
 * written, which may be after authentication (the principal) has been settled: an
 * implementation may read its fields from the request as they are at that moment.
 */
export interface RequestActor {
  readonly requestId?: string;
  /** The client's address (the proxy's when it is not a trusted one). */
  readonly address?: string;
  readonly username?: string;
  /** The access token used, directly or through a registry token obtained with it. */
  readonly tokenId?: string;
  readonly method?: string;
  /** The Host header the client sent. */
  readonly host?: string;
  readonly userAgent?: string;
  /** Scheme and host of this server as the client addressed it (WHARF_PUBLIC_URL when set). */
  readonly origin?: string;
}

const ACTOR = Symbol('wharf:actor');

/**
 * Carries the actor of each request in async context (nestjs-cls), so what records an audit row
 * deep in a service learns who, from where and under which request id without every call
 * passing it down. Transactions opened inside inherit it.
 */
@Injectable()
export class ActorContext {
  constructor(private readonly cls: ClsService) {}

  /** Runs `fn` (and everything it starts) as `actor`. */
  run<T>(actor: RequestActor, fn: () => T): T {
    return this.cls.runWith({ [ACTOR]: actor }, fn);
  }

  /** The actor of the work in progress; undefined outside any request (a scheduled job). */
  current(): RequestActor | undefined {
    return this.cls.isActive() ? this.cls.get<RequestActor | undefined>(ACTOR) : undefined;
  }
}
