import { readFileSync } from 'node:fs';
import { RegistryClient } from '../registry-client';
import { SyntheticBlob } from '../synthetic-blob';
import { Resources, startWharfTarget, startDistributionTarget, Target } from '../targets';

function cpu(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}
async function main() {
  const resources = new Resources();
  try {
    process.env.WHARF_SENDFILE = 'on';
    const on = await startWharfTarget(resources);
    process.env.WHARF_SENDFILE = 'off';
    const off = await startWharfTarget(resources);
    const dist = await startDistributionTarget(resources);
    const targets: [string, Target][] = [['on', on], ['off', off], ['dist', dist]];
    const size = Number(process.env.MIB ?? 512) * 1024 * 1024;
    const blob = new SyntheticBlob(size);
    const digest = await blob.digest();
    for (const [, t] of targets) await new RegistryClient(t).pushMonolithic('s/pull', blob);
    const res: Record<string, string[]> = { on: [], off: [], dist: [] };
    for (let i = 0; i < Number(process.env.N ?? 5); i++) {
      for (const [name, t] of targets) {
        const c = new RegistryClient(t);
        await c.pullBlob('s/pull', digest); // warm
        const c0 = cpu(t.pid!), self0 = process.cpuUsage();
        const r = await c.pullBlob('s/pull', digest);
        const c1 = cpu(t.pid!), self1 = process.cpuUsage(self0);
        res[name].push(`${(r.bytes / 1e6 / r.seconds).toFixed(0)} (srv ${(c1 - c0).toFixed(2)}s cli ${((self1.user + self1.system) / 1e6).toFixed(2)}s)`);
      }
    }
    for (const k of Object.keys(res)) console.log(k.padEnd(5), res[k].join('  '));
  } finally {
    await resources.stopAll();
  }
}
main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
