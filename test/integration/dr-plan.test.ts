// `airlock dr-plan` as an admin runs it: the built CLI against one application per restriction
// level and a proxy configuration with failmode=safe and failmode=secure sections.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { airlock, airlockJson } from './airlock-process.ts';

interface PlanEntry {
  application: { name: string; restrictionLevel: string };
  enforcement: { label: string; failmode?: string }[];
  bypass: { groups: string[]; commands: string[] };
  templates: string[];
  findings: { code: string }[];
}

/** The Markdown of one application: from its `## name` heading to the next. */
function sectionOf(markdown: string, name: string): string {
  const start = markdown.indexOf(`\n## ${name}\n`);
  assert.ok(start >= 0, `no section for ${name}`);
  const next = markdown.indexOf('\n## ', start + 1);
  return markdown.slice(start, next === -1 ? undefined : next);
}

describe('airlock dr-plan', () => {
  let dir: string;
  let cfg: string;
  let gatewayCfg: string;
  const data = () => ['--data-dir', dir];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'airlock-dr-plan-'));
    await airlock(['group', 'create', 'staff', ...data()]);
    await airlock(['group', 'create', 'oncall', ...data()]);
    const create = (name: string, level: string, extra: string[] = []) =>
      airlockJson<{ ikey: string }>([
        'app',
        'create',
        name,
        '--type',
        'radius',
        '--restriction-level',
        level,
        '--json',
        ...extra,
        ...data(),
      ]);
    const payroll = await create('payroll', 'most-restrictive');
    const vpn = await create('vpn', 'restrictive');
    const wiki = await create('wiki', 'less-restrictive', ['--groups', 'staff']);
    const portal = await airlockJson<{ ikey: string }>([
      'app',
      'create',
      'portal',
      '--type',
      'auth-api',
      '--restriction-level',
      'less-restrictive',
      '--json',
      ...data(),
    ]);
    await airlock(['policy', 'set', '--app', 'vpn', '--bypass-groups', 'oncall', ...data()]);
    const section = (kind: string, ikey: string, failmode: string, port: number) =>
      [
        `[${kind}]`,
        `ikey=${ikey}`,
        `skey=${'s'.repeat(40)}`,
        'api_host=localhost',
        'client=duo_only_client',
        `failmode=${failmode}`,
        `port=${port}`,
        'radius_ip_1=127.0.0.1',
        'radius_secret_1=dr-plan-test-secret-0123',
        '',
      ].join('\n');
    cfg = join(dir, 'authproxy.cfg');
    writeFileSync(
      cfg,
      [
        '[main]',
        'log_dir=log',
        '',
        '[duo_only_client]',
        '',
        // A most-restrictive application behind failmode=safe: the advisor's contradiction.
        section('radius_server_auto', payroll.ikey, 'safe', 18121),
        section('radius_server_auto2', vpn.ikey, 'secure', 18122),
        section('radius_server_auto3', wiki.ikey, 'safe', 18123),
      ].join('\n'),
    );
    gatewayCfg = join(dir, 'gateway.cfg');
    writeFileSync(
      gatewayCfg,
      [
        '[main]',
        '[gateway]',
        'portal_url=https://auth.example.org/',
        'cookie_domain=example.org',
        `session_secret=${'d'.repeat(40)}`,
        '[ad_client]',
        'host=127.0.0.1',
        'bind_dn=cn=svc,dc=example,dc=org',
        'service_account_password=svcpw',
        'search_dn=ou=people,dc=example,dc=org',
        '[service]',
        `ikey=${portal.ikey}`,
        `skey=${'s'.repeat(40)}`,
        'api_host=localhost',
        '[app:docs]',
        'hosts=docs.example.org',
        'failmode=safe',
        '[app:hr]',
        'hosts=hr.example.org',
        'failmode=secure',
        // Never asks the service: no failmode to plan for.
        '[app:intranet]',
        'hosts=intranet.example.org',
        'restriction=one_factor',
        '',
      ].join('\n'),
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('names the failmode, the bypass command and the template of each application (Markdown)', async () => {
    const md = await airlock(['dr-plan', '--proxy-config', cfg, ...data()]);
    assert.match(md, /^# Airlock DR plan\n/);

    const payroll = sectionOf(md, 'payroll');
    assert.match(payroll, /Restriction level: most restrictive \(expected failmode: secure\)/);
    assert.ok(payroll.includes(`proxy ${cfg} [radius_server_auto]: failmode=safe`));
    assert.match(payroll, /Nobody\. Two-factor authentication is required without exception/);
    assert.doesNotMatch(payroll, /airlock emergency bypass-groups/);
    assert.match(payroll, /> failmode-safe \(en\) — Authentication issues – in progress/);
    assert.match(payroll, /error: \[most-restrictive-failmode-safe\] application "payroll"/);

    const vpn = sectionOf(md, 'vpn');
    assert.ok(vpn.includes(`proxy ${cfg} [radius_server_auto2]: failmode=secure`));
    assert.match(vpn, /access is DENIED, even after primary authentication/);
    assert.ok(
      vpn.includes(
        'airlock emergency bypass-groups --app "vpn" --groups oncall --reason "<incident>" --for 1h',
      ),
    );
    assert.doesNotMatch(vpn, /emergency primary-only/);
    assert.match(
      vpn,
      /> Wir haben Probleme mit der Zwei-Faktor-Authentifizierung\. Aufgrund der Art der in vpn enthaltenen Daten wird der Zugriff verweigert/,
    );
    assert.match(vpn, /### Contradictions \(advisor\)\n\nNone\./);

    const wiki = sectionOf(md, 'wiki');
    assert.ok(wiki.includes(`proxy ${cfg} [radius_server_auto3]: failmode=safe`));
    assert.match(wiki, /get in WITHOUT a second factor/);
    assert.ok(
      wiki.includes(
        'airlock emergency bypass-groups --app "wiki" --groups staff --reason "<incident>" --for 1h',
      ),
    );
    assert.ok(
      wiki.includes(
        `airlock emergency primary-only --proxy-state-dir ${join(dir, 'state')} --reason "<incident>" --for 1h`,
      ),
    );
    assert.match(wiki, /lifting the two-factor authentication requirement for wiki/);
    for (const s of [payroll, vpn, wiki]) {
      assert.match(
        s,
        /airlock emergency list — every control \(bypass, primary-only\) ends by itself/,
      );
      assert.match(s, /factor-outage \(de\)/);
    }
  });

  it('names the failmode of each two-factor gateway application under the gateway’s service application', async () => {
    const md = await airlock(['dr-plan', '--gateway-config', gatewayCfg, ...data()]);
    const portal = sectionOf(md, 'portal');
    assert.ok(portal.includes(`gateway ${gatewayCfg} [app:docs]: failmode=safe`));
    assert.ok(portal.includes(`gateway ${gatewayCfg} [app:hr]: failmode=secure`));
    assert.doesNotMatch(portal, /\[app:intranet\]/);
    assert.match(portal, /Remote-2FA: skipped-failmode/);
    assert.match(
      portal,
      /access is DENIED after the directory password, with a page that says why/,
    );
    assert.match(portal, /gateway\.log of each gateway: no failmode line after the recovery/);
    assert.ok(
      portal.includes(
        `airlock emergency primary-only --proxy-state-dir ${join(dir, 'state')} --reason "<incident>" --for 1h`,
      ),
    );
    assert.match(portal, /> failmode-safe \(en\)/);
    assert.match(portal, /> failmode-secure \(en\)/);
    // The proxy's applications are not the gateway's.
    assert.match(sectionOf(md, 'vpn'), /no proxy section with this ikey/);
  });

  it('writes the same plan as HTML, escaped', async () => {
    const html = await airlock(['dr-plan', '--proxy-config', cfg, '--format', 'html', ...data()]);
    assert.match(html, /<h2>payroll<\/h2>/);
    assert.match(
      html,
      /--app &quot;vpn&quot; --groups oncall --reason &quot;&lt;incident&gt;&quot;/,
    );
    assert.doesNotMatch(html, /<incident>/);
  });

  it('gives the plan as JSON with --json', async () => {
    const plan = await airlockJson<PlanEntry[]>([
      'dr-plan',
      '--proxy-config',
      cfg,
      '--json',
      ...data(),
    ]);
    assert.deepEqual(
      plan.map((e) => [e.application.name, e.enforcement.map((x) => x.failmode), e.templates]),
      [
        ['payroll', ['safe'], ['failmode-safe', 'factor-outage']],
        // An Auth API client's own failmode, which Airlock cannot read.
        ['portal', [undefined], ['failmode-safe', 'factor-outage']],
        ['vpn', ['secure'], ['failmode-secure', 'factor-outage']],
        ['wiki', ['safe'], ['failmode-safe', 'factor-outage']],
      ],
    );
    assert.deepEqual(plan[0]?.bypass.commands, []);
  });

  it('says where failmode is unknown without a proxy configuration', async () => {
    const md = await airlock(['dr-plan', ...data()]);
    assert.match(
      sectionOf(md, 'vpn'),
      /no proxy section with this ikey in the configurations given: failmode unknown \(pass the proxy’s authproxy.cfg with --proxy-config\)/,
    );
  });
});
