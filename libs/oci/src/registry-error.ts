import { ERROR_CATALOGUE, ErrorCode } from './error-codes';

/**
 * A typed registry error. Libraries throw it; the HTTP layer renders it as
 * `{"errors":[{code,message,detail}]}` with the catalogue's status.
 */
export class RegistryError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message?: string,
    readonly detail?: unknown,
    /** Extra response headers, e.g. Range on a 416 for an upload. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message ?? ERROR_CATALOGUE[code].message);
    this.status = ERROR_CATALOGUE[code].status;
  }

  toJSON(): { code: ErrorCode; message: string; detail: unknown } {
    return { code: this.code, message: this.message, detail: this.detail ?? null };
  }
}
