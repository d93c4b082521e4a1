import { startWharf } from './helpers/wharf-server';
it('boots', async () => {
  const t0 = Date.now();
  const s = await startWharf();
  console.log('boot', Date.now() - t0);
  const t1 = Date.now();
  await s.close();
  console.log('close', Date.now() - t1);
});
