import 'reflect-metadata';
import { ConfigError, loadConfig } from '@wharf/config';
import { startWharf } from './bootstrap';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const wharf = await startWharf(config);
  process.stdout.write(
    `${JSON.stringify({ time: new Date().toISOString(), level: 'info', msg: `Wharf listening on ${wharf.address}`, dataDir: config.dataDir, database: config.databaseUrl ? 'postgres' : 'embedded' })}\n`,
  );
}

main().catch((err) => {
  process.stderr.write(`Wharf failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
