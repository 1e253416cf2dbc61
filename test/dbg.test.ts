import { startService } from '/work/main/test/integration/service-harness.ts';
import { createAuthApiClient } from '/work/main/src/client/auth-api-client.ts';
import { SystemClock } from '/work/main/src/runtime/clock.ts';
import { it } from 'node:test';
it('dbg', async () => {
  const h = await startService();
  const app = await h.createApp();
  const c = createAuthApiClient({ apiHost: 'localhost', apiPort: h.port, ikey: app.ikey, skey: app.skey, caPem: h.caPem, timeoutMs: 2000, clock: new SystemClock() });
  await new Promise<void>((resolve) => {
    const s = c.streamResults!({ onOpen: () => { console.log('open'); setTimeout(() => { s.close(); resolve(); }, 300); }, onResult: (r) => console.log('res', r), onEnd: (r) => { console.log('end', r); resolve(); } });
  });
  c.close();
  await h.close();
});
