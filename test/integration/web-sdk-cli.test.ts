// `airlock app create --type web-sdk` and `app set --redirect-uri` end to end: the built command
// beside `airlock serve`; Duo's own Node client checks the printed client id and secret.
import assert from 'node:assert/strict';
import https from 'node:https';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '@duosecurity/duo_universal';
import {
  airlockFails,
  airlockJson,
  startServe,
  stopServe,
  type RunningService,
} from './airlock-process.ts';

interface Created {
  ikey: string;
  skey: string;
  client_id: string;
  client_secret: string;
  api_host: string;
  redirect_uris: string[];
  type: string;
}

describe('airlock app create --type web-sdk', () => {
  let dir: string;
  let service: RunningService;
  const data = () => ['--data-dir', dir];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'airlock-websdk-cli-'));
    service = await startServe([...data(), '--listen', '127.0.0.1:0']);
  });
  after(async () => {
    if (service) await stopServe(service);
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints the client id and secret (= ikey and skey), the API host and the redirect URIs; Duo’s client health-checks with them', async () => {
    const created = await airlockJson<Created>([
      'app',
      'create',
      'portal',
      '--type',
      'web-sdk',
      '--redirect-uri',
      'https://portal.example/duo-callback',
      '--redirect-uri',
      'http://127.0.0.1:3000/duo-callback',
      ...data(),
    ]);
    assert.equal(created.type, 'web-sdk');
    assert.equal(created.client_id, created.ikey);
    assert.equal(created.client_secret, created.skey);
    assert.equal(created.client_id.length, 20);
    assert.equal(created.client_secret.length, 40);
    assert.deepEqual(created.redirect_uris, [
      'https://portal.example/duo-callback',
      'http://127.0.0.1:3000/duo-callback',
    ]);
    assert.match(created.api_host, /:[0-9]+$/);

    const client = new Client({
      clientId: created.client_id,
      clientSecret: created.client_secret,
      apiHost: `localhost:${service.port}`,
      redirectUrl: created.redirect_uris[0]!,
    });
    const axios = (client as unknown as { axios: { defaults: { httpsAgent: unknown } } }).axios;
    axios.defaults.httpsAgent = new https.Agent({
      ca: readFileSync(join(dir, 'tls', 'ca.pem'), 'utf8'),
    });
    assert.equal(((await client.healthCheck()) as { stat: string }).stat, 'OK');

    const updated = await airlockJson<{ redirect_uris: string[] }>([
      'app',
      'set',
      'portal',
      '--redirect-uri',
      'https://portal.example/new-callback',
      ...data(),
    ]);
    assert.deepEqual(updated.redirect_uris, ['https://portal.example/new-callback']);
  });

  it('refuses a redirect URI that is not https (http only for localhost)', async () => {
    const plain = await airlockFails([
      'app',
      'create',
      'p3',
      '--type',
      'web-sdk',
      '--redirect-uri',
      'http://portal.example/cb',
      ...data(),
    ]);
    assert.notEqual(plain.code, 0);
    assert.match(plain.stderr, /must be https/);
  });

  it('refuses redirect URIs on an application of another type', async () => {
    const r = await airlockFails([
      'app',
      'create',
      'vpn',
      '--redirect-uri',
      'https://portal.example/cb',
      ...data(),
    ]);
    assert.match(r.stderr, /for web-sdk applications/);
  });
});
