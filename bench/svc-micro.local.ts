// Untracked helper: service CPU per passcode login (preauth + auth) through Fastify inject.
import { API_HOST, startService, totpAt } from '../test/integration/service-harness.ts';
import { signRequest } from '../src/protocol/duo-signature.ts';
const N = Number(process.env.N ?? 3000);
const CONC = 32;
const MODE = process.env.MODE ?? 'inject';
const h = await startService();
const app = await h.createApp({ newUserPolicy: 'deny' });
const users: { name: string; code: string }[] = [];
for (let i = 0; i < N + 400; i++) {
  const u = await h.createUser(`user${i}`, { totp: true });
  users.push({ name: `user${i}`, code: totpAt(u.totp!, h.clock) });
}
async function call(path: string, params: Record<string, string>) {
  if (MODE === 'local') {
    const r = await h.service.localAuthApi.call({ method: 'POST', path, params, ikey: app.ikey, skey: app.skey, host: API_HOST, clientIp: '127.0.0.1' });
    return r.body as { response: { result: string } };
  }
  const date = new Date(h.clock.nowMs()).toUTCString();
  const authorization = signRequest({ ikey: app.ikey, skey: app.skey, date, method: 'POST', host: API_HOST, path, params });
  const body = new URLSearchParams(params).toString();
  const res = await h.service.server.inject({ method: 'POST', url: path, headers: { host: API_HOST, date, authorization, 'content-type': 'application/x-www-form-urlencoded' }, payload: body });
  return res.json() as { response: { result: string } };
}
async function login(u: { name: string; code: string }) {
  const pre = await call('/auth/v2/preauth', { username: u.name, ipaddr: '192.0.2.7' });
  if (pre.response.result !== 'auth') throw new Error(JSON.stringify(pre));
  const a = await call('/auth/v2/auth', { username: u.name, factor: 'passcode', passcode: u.code, ipaddr: '192.0.2.7' });
  if (a.response.result !== 'allow') throw new Error(JSON.stringify(a));
}
async function run(list: typeof users) {
  let next = 0;
  await Promise.all(Array.from({ length: CONC }, async () => { while (next < list.length) await login(list[next++]!); }));
}
await run(users.slice(0, 400)); // warm-up
const c0 = process.cpuUsage(); const t0 = performance.now();
await run(users.slice(400));
const c = process.cpuUsage(c0); const t = performance.now() - t0;
console.log(`${MODE}: ${N} logins, CPU ${((c.user + c.system) / N).toFixed(1)} us/login, wall ${(t / N * 1000).toFixed(1)} us/login`);
await h.close();
