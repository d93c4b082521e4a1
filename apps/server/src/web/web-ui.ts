import * as path from 'node:path';
import compression from 'compression';
import express, { Express, NextFunction, Request, Response } from 'express';
import { installationRoot } from '@wharf/config';

/**
 * The web UI (apps/web, built by `npm run build` into dist/web) served under /ui/ by the server
 * itself, with `/` redirecting there. Pages get a strict CSP of their own: scripts only from
 * this origin's /ui/ files, no framing. (Registry answers carry a sandboxing CSP instead, so
 * pushed bytes never run as a page of this origin: registry.dispatcher.)
 */
export class WebUi {
  static readonly BASE = '/ui/';
  private static readonly PAGE_HEADERS = {
    'Content-Security-Policy':
      "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'same-origin',
  };

  constructor(private readonly dir: string) {}

  /** dist/web of the installation this code runs from (source or built), unless configured. */
  static defaultDir(): string {
    return path.join(installationRoot(), 'dist', 'web');
  }

  attach(app: Express): void {
    // Exact paths: Express routes would also take `/ui/` for `/ui` and loop.
    app.use((req, res, next) => {
      const pathname = req.url.split('?')[0];
      if ((req.method === 'GET' || req.method === 'HEAD') && (pathname === '/' || pathname === '/ui')) res.redirect(302, WebUi.BASE);
      else next();
    });
    const indexFile = path.join(this.dir, 'index.html');
    // The UI's files only (registry bodies are never recompressed): its script is ~670 KB, ~200 KB gzipped.
    app.use('/ui', compression());
    // Hashed file names: a build never changes what a name holds, so browsers may keep them.
    app.use(
      '/ui/assets',
      express.static(path.join(this.dir, 'assets'), { immutable: true, maxAge: '365d', index: false, fallthrough: false }),
      (err: { status?: number }, _req: Request, res: Response, next: NextFunction) => (err.status === 404 ? res.status(404).type('text/plain').send('not found') : next(err)),
    );
    // Every other /ui/ path is a page of the single-page app: its index, never cached.
    app.get('/ui/{*page}', (_req, res) => {
      res.set(WebUi.PAGE_HEADERS).set('Cache-Control', 'no-cache');
      res.sendFile(indexFile, (err) => {
        if (err && !res.headersSent) res.status(404).type('text/plain').send('The web UI is not built: run `npm run build` (npm start builds it).');
      });
    });
  }
}
