import { fileURLToPath } from 'node:url';
import { type Plugin, defineConfig } from 'vite';

/** @mantine/hooks' useId, replaced by src/vendor/mantine-use-id.ts (which says why). */
const mantineUseId: Plugin = {
  name: 'wharf-mantine-use-id',
  enforce: 'pre',
  resolveId(source, importer) {
    if (importer?.includes('/@mantine/hooks/') && source.endsWith('/use-id/use-id.mjs')) return fileURLToPath(new URL('./src/vendor/mantine-use-id.ts', import.meta.url));
    return null;
  },
};

// The UI is served by Wharf under /ui/ (apps/server/src/web), from dist/web.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/ui/',
  plugins: [mantineUseId],
  // JSX without a framework plugin: no fast refresh is needed for a build served by the server.
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: fileURLToPath(new URL('../../dist/web', import.meta.url)),
    emptyOutDir: true,
    // The size of the first view is checked by test/web-ui.e2e-spec.ts from this manifest.
    manifest: true,
    chunkSizeWarningLimit: 800,
    rolldownOptions: {
      // Mantine marks its modules "use client" for server-rendering frameworks; meaningless in a bundle.
      onwarn(warning, warn) {
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning);
      },
    },
  },
  server: { proxy: { '/api': 'http://127.0.0.1:8080', '/v2': 'http://127.0.0.1:8080' } },
});
