// The LDAP proxy's bind rules: exempt_ou_N compares RDN by RDN; handleBind with a fake directory
// connection and a fake login flow (what reaches the client, what reaches the directory).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { LdapServerConfig } from '../config/authproxy-config.ts';
import {
  LDAP_RESULT,
  decodeLdapMessage,
  encodeBindRequest,
  encodeBindResponse,
  encodeSaslBindRequest,
} from '../protocol/ldap/ldap-message.ts';
import { handleBind, isDnUnder, type BindState, type UpstreamBindResult } from './ldap-bind.ts';
import type { LoginAnswer, LoginFlow } from './login-flow.ts';
import type { AuthEvent, ProxyLogs } from './proxy-logs.ts';

describe('isDnUnder (exempt_ou_N)', () => {
  const base = 'ou=services,dc=example,dc=org';
  const cases: Array<[string, boolean]> = [
    ['ou=services,dc=example,dc=org', true],
    ['cn=gitlab,ou=services,dc=example,dc=org', true],
    ['CN=GitLab, OU=Services, DC=Example, DC=Org', true],
    ['cn=a,ou=team,ou=services,dc=example,dc=org', true],
    ['uid=alice,ou=people,dc=example,dc=org', false],
    ['dc=example,dc=org', false],
    // An escaped comma is part of a value: this entry is directly under dc=example,dc=org.
    ['uid=alice\\,ou=services,dc=example,dc=org', false],
    ['cn=x,ou=services,dc=example,dc=org,dc=evil', false],
    ['', false],
  ];
  for (const [dn, expected] of cases) {
    it(`${expected ? 'exempts' : 'does not exempt'} ${JSON.stringify(dn)}`, () => {
      assert.equal(isDnUnder(dn, base), expected);
    });
  }
});

// ---------------------------------------------------------------------------------------------
// handleBind with a fake directory connection and a fake login flow
// ---------------------------------------------------------------------------------------------

const USER_DN = 'uid=alice,ou=people,dc=example,dc=org';
const SVC_DN = 'cn=svc,ou=services,dc=example,dc=org';

function section(over: Partial<LdapServerConfig> = {}): LdapServerConfig {
  return {
    section: 'ldap_server_auto',
    ikey: 'DIXXXXXXXXXXXXXXXXXX',
    failmode: 'secure',
    exemptPrimaryBind: true,
    exemptOus: [],
    usernameAttribute: 'uid',
    allowUnlimitedBinds: false,
    allowSearchesAfterBind: true,
    ...over,
  } as LdapServerConfig;
}

/** The directory: accepts `password` for every DN; records what it was sent. */
function directory(password: string, options: { resetFails?: boolean } = {}) {
  const sent: Array<{ name: string; password: string }> = [];
  const answer = (messageId: number, resultCode: number): UpstreamBindResult => ({
    kind: 'response',
    result: { resultCode, matchedDn: '', diagnosticMessage: '' },
    raw: encodeBindResponse({ messageId, resultCode, matchedDn: '', diagnosticMessage: 'dir' }),
  });
  const bind = (messageId: number, name: string, pw: string): UpstreamBindResult => {
    sent.push({ name, password: pw });
    if (name === '') {
      return options.resetFails
        ? { kind: 'error', reason: 'ldap-unreachable', detail: 'gone' }
        : answer(messageId, 0);
    }
    return answer(messageId, pw === password ? 0 : 49);
  };
  return { sent, bind };
}

/** A login flow that checks the primary with the whole password, then answers `code`. */
function flowAnswering(code: LoginAnswer['code']) {
  return (primary: Parameters<Parameters<typeof handleBind>[0]['flowFor']>[0]): LoginFlow =>
    async (input) => {
      const result = await primary.authenticate({
        username: input.username,
        password: (input.password ?? '').split(',')[0]!,
      });
      if (result.kind !== 'accept') {
        return { code: 'Access-Reject', replyMessage: 'primary', attributes: [] };
      }
      return { code, replyMessage: code === 'Access-Accept' ? 'ok' : 'Denied', attributes: [] };
    };
}

function logs(): ProxyLogs & { events: AuthEvent[] } {
  const events: AuthEvent[] = [];
  return {
    events,
    request: () => undefined,
    line: () => undefined,
    event: (e) => events.push(e),
    systemEvent: () => undefined,
    close: () => Promise.resolve(),
  };
}

async function bindOnce(input: {
  raw: Buffer;
  state?: BindState;
  over?: Partial<LdapServerConfig>;
  answer?: LoginAnswer['code'];
  resetFails?: boolean;
}) {
  const dir = directory('pw', { resetFails: input.resetFails ?? false });
  const message = decodeLdapMessage(input.raw);
  const state = input.state ?? { primaryBindDone: false, secondFactorBindDone: false };
  const log = logs();
  const outcome = await handleBind(
    {
      section: section(input.over),
      directory: {
        describeBoundDn: () => Promise.resolve({ kind: 'found', username: 'alice', groups: [] }),
        authenticate: () => Promise.reject(new Error('unused')),
        close: () => Promise.resolve(),
      },
      flowFor: flowAnswering(input.answer ?? 'Access-Accept'),
      logs: log,
    },
    {
      message,
      state,
      client: { ip: '192.0.2.1', port: 1234 },
      forward: () => {
        const op = message.operation;
        if (op.type !== 'bindRequest' || op.authentication.kind !== 'simple') throw new Error('x');
        return Promise.resolve(
          dir.bind(message.messageId, op.name, op.authentication.password.toString()),
        );
      },
      bind: (name, password) =>
        Promise.resolve(dir.bind(message.messageId, name, Buffer.from(password).toString())),
    },
  );
  const response = decodeLdapMessage(outcome.response);
  const code =
    response.operation.type === 'bindResponse' ? response.operation.result.resultCode : -1;
  return { code, close: outcome.close, state, sent: dir.sent, events: log.events };
}

const userBind = (password: string) => encodeBindRequest({ messageId: 5, name: USER_DN, password });

describe('handleBind', () => {
  it('passes the first bind of a connection without a second factor (exempt_primary_bind)', async () => {
    const r = await bindOnce({
      raw: encodeBindRequest({ messageId: 1, name: SVC_DN, password: 'pw' }),
      answer: 'Access-Reject',
    });
    assert.equal(r.code, 0);
    assert.equal(r.state.primaryBindDone, true);
    assert.equal(r.events[0]?.reason, 'exempt-primary-bind');
  });

  it('gives the second bind the second factor; a deny is 49 and the directory connection goes anonymous', async () => {
    const r = await bindOnce({
      raw: userBind('pw,123456'),
      state: { primaryBindDone: true, secondFactorBindDone: false },
      answer: 'Access-Reject',
    });
    assert.equal(r.code, LDAP_RESULT.invalidCredentials);
    assert.equal(r.close, false);
    assert.deepEqual(r.sent.at(-1), { name: '', password: '' });
    assert.equal(r.state.secondFactorBindDone, false);
  });

  it('closes the connection when it cannot be made anonymous after a deny', async () => {
    const r = await bindOnce({
      raw: userBind('pw,123456'),
      state: { primaryBindDone: true, secondFactorBindDone: false },
      answer: 'Access-Reject',
      resetFails: true,
    });
    assert.equal(r.code, LDAP_RESULT.invalidCredentials);
    assert.equal(r.close, true);
  });

  it("answers an accepted bind with the directory's success and marks the connection", async () => {
    const r = await bindOnce({
      raw: userBind('pw,123456'),
      state: { primaryBindDone: true, secondFactorBindDone: false },
      over: { allowSearchesAfterBind: false },
    });
    assert.equal(r.code, 0);
    assert.equal(r.state.secondFactorBindDone, true);
    assert.equal(r.close, true, 'allow_searches_after_bind=false closes after the answer');
  });

  it('refuses a further bind after a second-factor bind unless allow_unlimited_binds', async () => {
    const after2fa = { primaryBindDone: true, secondFactorBindDone: true };
    const refused = await bindOnce({ raw: userBind('pw,1'), state: { ...after2fa } });
    assert.equal(refused.code, LDAP_RESULT.unwillingToPerform);
    assert.equal(refused.close, true);
    assert.deepEqual(refused.sent, [], 'nothing reached the directory');
    const allowed = await bindOnce({
      raw: userBind('pw,1'),
      state: { ...after2fa },
      over: { allowUnlimitedBinds: true },
    });
    assert.equal(allowed.code, 0);
  });

  it('refuses SASL and unauthenticated binds without asking the directory', async () => {
    const sasl = await bindOnce({
      raw: encodeSaslBindRequest({ messageId: 2, name: '', mechanism: 'PLAIN' }),
    });
    assert.equal(sasl.code, LDAP_RESULT.unwillingToPerform);
    const unauthenticated = await bindOnce({
      raw: encodeBindRequest({ messageId: 3, name: USER_DN, password: '' }),
    });
    assert.equal(unauthenticated.code, LDAP_RESULT.unwillingToPerform);
    assert.deepEqual([...sasl.sent, ...unauthenticated.sent], []);
    assert.equal(unauthenticated.state.primaryBindDone, false);
  });

  it('exempts a DN under exempt_ou_N even after the first bind, and never a failed one', async () => {
    const svc = encodeBindRequest({ messageId: 4, name: SVC_DN, password: 'pw' });
    const state = { primaryBindDone: true, secondFactorBindDone: false };
    const over = { exemptOus: ['ou=services,dc=example,dc=org'] };
    const ok = await bindOnce({ raw: svc, state: { ...state }, over, answer: 'Access-Reject' });
    assert.equal(ok.code, 0);
    assert.equal(ok.events[0]?.reason, 'exempt-ou');
    const wrong = await bindOnce({
      raw: encodeBindRequest({ messageId: 4, name: SVC_DN, password: 'nope' }),
      state: { ...state },
      over,
    });
    assert.equal(wrong.code, LDAP_RESULT.invalidCredentials);
    assert.equal(wrong.events[0]?.status, 'Reject');
  });
});
