// `airlock dr-plan`: the per-application DR plan from the live configuration, as Markdown or HTML.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { loadAuthProxyConfig } from '../../config/authproxy-config.ts';
import { loadGatewayConfig } from '../../config/gateway-config.ts';
import { DEFAULT_TEMPLATES } from '../../core/user-messages.ts';
import {
  DR_PLAN_FORMATS,
  loadDrPlan,
  renderDrPlan,
  type DrPlanSection,
} from '../../operations/dr-plan.ts';
import { withContext } from '../open-context.ts';
import { choice, commonOptions, type CommonFlags } from './common.ts';

export function registerDrPlanCommand(program: Command): void {
  commonOptions(
    program
      .command('dr-plan')
      .description(
        'per application: restriction level, where failmode is enforced, what users see when the service is unreachable or degraded, who may bypass and the exact command, the revert checklist, the message to send, contradictions',
      )
      .option(
        '--proxy-config <file>',
        'an authproxy.cfg whose server sections protect applications; repeatable',
        (value: string, previous: string[] = []) => [...previous, value],
      )
      .option(
        '--gateway-config <file>',
        'a gateway.cfg whose [app:NAME] and [oidc_client:ID] sections protect its application; repeatable',
        (value: string, previous: string[] = []) => [...previous, value],
      )
      .option('--format <format>', `${DR_PLAN_FORMATS.join(' or ')}`, 'md'),
  ).action(
    async (
      flags: CommonFlags & { proxyConfig?: string[]; gatewayConfig?: string[]; format: string },
    ) => {
      const format = choice(flags.format, DR_PLAN_FORMATS, '--format');
      const sections = [
        ...(flags.proxyConfig ?? []).flatMap((file) => proxySections(file)),
        ...(flags.gatewayConfig ?? []).flatMap((file) => gatewaySections(file)),
      ];
      await withContext(flags, async (ctx) => {
        const entries = await loadDrPlan(ctx.store, sections);
        if (flags.json) {
          process.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
          return;
        }
        process.stdout.write(
          renderDrPlan(entries, {
            format,
            templates: (kind) => DEFAULT_TEMPLATES.filter((t) => t.kind === kind),
            generatedAt: new Date(ctx.clock.nowMs()).toISOString(),
          }),
        );
      });
    },
  );
}

/**
 * The sections of one gateway.cfg that decide failmode: its two-factor `[app:NAME]`s (the others
 * never ask the service) and its OpenID Connect clients, all under its `[service]` application.
 */
export function gatewaySections(file: string): DrPlanSection[] {
  const config = loadGatewayConfig(file);
  const common = {
    kind: 'gateway' as const,
    proxy: resolve(file),
    stateDir: config.main.stateDir,
    ikey: config.service.ikey,
    failmodeSecureGroups: [],
    failmodeSafeGroups: [],
  };
  return [
    ...config.apps
      .filter((a) => a.restriction === 'two_factor')
      .map((a) => ({
        ...common,
        section: a.section,
        failmode: a.failmode,
        failmodeDefault: !a.failmodeExplicit,
      })),
    ...(config.oidc?.clients ?? []).map((c) => ({
      ...common,
      section: c.section,
      failmode: c.failmode,
      failmodeDefault: false,
    })),
  ];
}

/** The server sections of one authproxy.cfg, as the plan reads them. */
export function proxySections(file: string): DrPlanSection[] {
  const config = loadAuthProxyConfig(file);
  return config.servers.map((s) => ({
    proxy: resolve(file),
    stateDir: config.main.stateDir,
    section: s.section,
    ikey: s.ikey,
    failmode: s.failmode,
    failmodeDefault: !s.failmodeExplicit,
    failmodeSecureGroups: s.failmodeSecureGroups,
    failmodeSafeGroups: s.failmodeSafeGroups,
  }));
}
