// gateway.cfg's [main] SIEM output and status reports: the same keys and checks as authproxy.cfg's.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseGatewayConfig } from './gateway-config.ts';
import { CA_PEM as CA } from './test-support/authproxy-fixtures.ts';

function withMain(main: string[]): string {
  return [
    '[main]',
    'admin_listen=127.0.0.1:0',
    ...main,
    '[gateway]',
    'listen=127.0.0.1:0',
    'portal_url=https://auth.example.test/',
    'cookie_domain=example.test',
    `session_secret=${'a'.repeat(64)}`,
    '[ad_client]',
    'host=127.0.0.1',
    'auth_type=plain',
    'bind_dn=cn=svc,dc=example,dc=test',
    'service_account_password=svcpw',
    'search_dn=ou=people,dc=example,dc=test',
    '[service]',
    'ikey=DIXXXXXXXXXXXXXXXXXX',
    `skey=${'s'.repeat(40)}`,
    'api_host=localhost:8443',
    '[app:wiki]',
    'hosts=wiki.example.test',
    '',
  ].join('\n');
}

const parse = (main: string[]) =>
  parseGatewayConfig(withMain(main), { configDir: '/etc/airlock', readFile: () => CA });

describe('gateway.cfg [main]: SIEM output and status reports', () => {
  it('is off by default', () => {
    const result = parse([]);
    assert.ok(result.ok, result.ok ? '' : result.errors.join('\n'));
    assert.equal(result.config.main.syslog, undefined);
    assert.equal(result.config.main.statusReportIntervalMs, 0);
    assert.equal(result.config.main.statusName, undefined);
  });

  it('reads the syslog target, facility, app name and CA, and the status reports', () => {
    const result = parse([
      'syslog_target=tls://siem.example.test',
      'syslog_facility=LOG_LOCAL4',
      'syslog_ca_file=siem-ca.pem',
      'status_report_interval=30',
      'status_name=portal-1',
    ]);
    assert.ok(result.ok, result.ok ? '' : result.errors.join('\n'));
    assert.deepEqual(result.config.main.syslog, {
      target: { transport: 'tls', host: 'siem.example.test', port: 6514 },
      facility: 'local4',
      appName: 'airlock-gateway',
      caPem: CA,
    });
    assert.equal(result.config.main.statusReportIntervalMs, 30_000);
    assert.equal(result.config.main.statusName, 'portal-1');
  });

  it('reports every bad key at once, placed', () => {
    const result = parse([
      'syslog_target=siem.example.test:514',
      'syslog_facility=authpriv2',
      'syslog_app_name=my gateway',
      'status_report_interval=-1',
      'status_name=-bad',
    ]);
    assert.equal(result.ok, false);
    const errors = result.ok ? '' : result.errors.join('\n');
    for (const re of [
      /\[main\] syslog_target: must be udp:\/\/HOST\[:PORT\]/,
      /\[main\] syslog_facility: unknown facility "authpriv2"; did you mean authpriv\?/,
      /\[main\] syslog_app_name: must be 1-48 printable ASCII characters/,
      /\[main\] status_report_interval: /,
      /\[main\] status_name: must be 1-64 letters/,
    ]) {
      assert.match(errors, re);
    }
  });
});
