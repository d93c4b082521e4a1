import { Request, Response } from 'express';

export const SESSION_COOKIE = 'wharf_session';

/** The session secret the request's cookie carries, if any. */
export function sessionSecretOf(req: Request): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === SESSION_COOKIE) return value.join('=') || undefined;
  }
  return undefined;
}

/**
 * httpOnly (no script reads it), SameSite=Strict (no other site's page sends it), expiring with
 * the session, and Secure whenever Wharf is reached over https.
 */
export function setSessionCookie(res: Response, secret: string, expiresAt: Date, secure: boolean): void {
  const maxAge = Math.max(0, Math.floor((expiresAt.getTime() - Date.now()) / 1000));
  res.append('Set-Cookie', `${SESSION_COOKIE}=${secret}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secure ? '; Secure' : ''}`);
}

export function clearSessionCookie(res: Response, secure: boolean): void {
  res.append('Set-Cookie', `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure ? '; Secure' : ''}`);
}

/** Whether the browser reached Wharf over https (directly, or as WHARF_PUBLIC_URL says). */
export function isSecure(req: Request, publicUrl?: string): boolean {
  return req.secure || publicUrl?.startsWith('https:') === true;
}
