// `airlock app …`: create, list, show, rotate-secret, set (integrations that call the Auth API).
import { DEFAULT_USERNAME_NORMALIZATION, USERNAME_NORMALIZATIONS } from '../../core/username.ts';
import type { Command } from 'commander';
import { readApiHost } from '../../config/api-host-file.ts';
import { AirlockError } from '../../core/error-registry.ts';
import {
  APPLICATION_TYPES,
  NEW_USER_POLICIES,
  RESTRICTION_LEVELS,
  type Application,
} from '../../core/model.ts';
import {
  createApplication,
  deleteApplication,
  rotateApplicationSecret,
  updateApplication,
  type ApplicationEdit,
} from '../../operations/application-operations.ts';
import { requireApplication } from '../../operations/record-lookups.ts';
import { withContext } from '../open-context.ts';
import { emit, epochSeconds, table } from '../output.ts';
import { choice, commonOptions, nonNegativeInt, splitList, type CommonFlags } from './common.ts';

interface AppFlags extends CommonFlags {
  type?: string;
  newUserPolicy?: string;
  restrictionLevel?: string;
  rateLimit?: number;
  groups?: string;
  verifiedPush?: string | boolean;
  usernameNormalization?: string;
  /** true, false (`--no-allow-v1-signature`) or undefined (neither flag). */
  allowV1Signature?: boolean;
  redirectUri?: string[];
  rememberDeviceHours?: number;
}

/** Commander's collector for a repeatable option. */
function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function registerAppCommands(program: Command): void {
  const app = program
    .command('app')
    .description('manage applications (integrations with an ikey/skey)');

  commonOptions(
    app
      .command('create <name>')
      .description('create an application and print its ikey, skey and API host')
      .option('--type <type>', `integration type: ${APPLICATION_TYPES.join('|')}`, 'auth-api')
      .option(
        '--new-user-policy <policy>',
        `what happens to users without a second factor: ${NEW_USER_POLICIES.join('|')}`,
        'enroll',
      )
      .option(
        '--restriction-level <level>',
        `data classification: ${RESTRICTION_LEVELS.join('|')}`,
        'restrictive',
      )
      .option(
        '--rate-limit <n>',
        'Auth API requests per second for this application (0 = unlimited)',
        nonNegativeInt,
        50,
      )
      .option(
        '--groups <names>',
        'comma-separated groups whose members may use it (default: everyone)',
      )
      .option('--verified-push', 'pushes carry a code from the login prompt the user must type')
      .option(
        '--username-normalization <mode>',
        `${USERNAME_NORMALIZATIONS.join('|')}: with simple, DOMAIN\\alice and alice@example.org ` +
          'mean alice (names always match regardless of case)',
        DEFAULT_USERNAME_NORMALIZATION,
      )
      .option(
        '--allow-v1-signature',
        'accept signature v1 on /rest/v1 (Duo Authentication Proxy; default for --type authproxy)',
      )
      .option('--no-allow-v1-signature', 'refuse signature v1 (the default for other types)')
      .option(
        '--redirect-uri <url>',
        'web-sdk: a redirect URI the application may name (repeat for several)',
        collect,
      )
      .option(
        '--remember-device-hours <n>',
        'web-sdk: hours the prompt may remember a device (0 = never, the default)',
        nonNegativeInt,
      ),
  ).action(async (name: string, flags: AppFlags) =>
    withContext(flags, async (ctx) => {
      const created = await createApplication(ctx, {
        name,
        type: choice(flags.type, APPLICATION_TYPES, '--type'),
        newUserPolicy: choice(flags.newUserPolicy, NEW_USER_POLICIES, '--new-user-policy'),
        restrictionLevel: choice(flags.restrictionLevel, RESTRICTION_LEVELS, '--restriction-level'),
        rateLimitPerSecond: flags.rateLimit ?? 50,
        verifiedPush: flags.verifiedPush === true,
        usernameNormalization: choice(
          flags.usernameNormalization,
          USERNAME_NORMALIZATIONS,
          '--username-normalization',
        ),
        ...(flags.groups ? { groups: splitList(flags.groups) } : {}),
        ...(flags.allowV1Signature !== undefined
          ? { allowV1Signature: flags.allowV1Signature }
          : {}),
        ...(flags.redirectUri ? { redirectUris: flags.redirectUri } : {}),
        ...(flags.rememberDeviceHours !== undefined
          ? { rememberDeviceHours: flags.rememberDeviceHours }
          : {}),
      });
      const apiHost = readApiHost(ctx.location.dataDir, process.env);
      const webSdk = created.type === 'web-sdk';
      emit(
        flags,
        {
          ...describe(created),
          skey: created.skey,
          api_host: apiHost,
          // Duo's Web SDK calls them client id and client secret: the same values.
          ...(webSdk ? { client_id: created.ikey, client_secret: created.skey } : {}),
        },
        () =>
          [
            `Created application "${created.name}".`,
            `  integration key (ikey): ${created.ikey}`,
            `  secret key (skey):      ${created.skey}`,
            `  API host:               ${apiHost}`,
            ...(webSdk
              ? [
                  `  client id / secret:     the ikey / the skey`,
                  `  redirect URIs:          ${created.redirectUris.join(', ')}`,
                ]
              : []),
            'Keep the secret key secret: it signs every request of this application.',
          ].join('\n'),
      );
    }),
  );

  commonOptions(app.command('list').description('list applications')).action(
    async (flags: CommonFlags) =>
      withContext(flags, async (ctx) => {
        const apps = (await ctx.store.listApplications()).map(describe);
        emit(flags, apps, () =>
          table(apps, [
            'name',
            'ikey',
            'type',
            'new_user_policy',
            'restriction_level',
            'rate_limit',
          ]),
        );
      }),
  );

  commonOptions(
    app
      .command('show <app>')
      .description('show one application (by name, id or ikey); the skey is not shown'),
  ).action(async (ref: string, flags: CommonFlags) =>
    withContext(flags, async (ctx) => {
      const a = describe(await requireApplication(ctx.store, ref));
      emit(flags, a, () =>
        Object.entries(a)
          .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') || '-' : String(v)}`)
          .join('\n'),
      );
    }),
  );

  commonOptions(
    app
      .command('rotate-secret <app>')
      .description('replace the secret key; the old one stops working within a second'),
  ).action(async (ref: string, flags: CommonFlags) =>
    withContext(flags, async (ctx) => {
      const updated = await rotateApplicationSecret(ctx, ref);
      emit(
        flags,
        { ikey: updated.ikey, skey: updated.skey },
        () => `New secret key for "${updated.name}": ${updated.skey}`,
      );
    }),
  );

  commonOptions(
    app
      .command('set <app>')
      .description("change an application's policy settings")
      .option('--new-user-policy <policy>', NEW_USER_POLICIES.join('|'))
      .option('--restriction-level <level>', RESTRICTION_LEVELS.join('|'))
      .option('--rate-limit <n>', 'requests per second (0 = unlimited)', nonNegativeInt)
      .option('--groups <names>', 'comma-separated groups allowed to use it; "" = everyone')
      .option('--verified-push <on|off>', 'ask for the verification code on pushes')
      .option('--username-normalization <mode>', USERNAME_NORMALIZATIONS.join('|'))
      .option('--allow-v1-signature', 'accept signature v1 on /rest/v1 (Duo Authentication Proxy)')
      .option('--no-allow-v1-signature', 'refuse signature v1 on /rest/v1')
      .option(
        '--redirect-uri <url>',
        'web-sdk: replaces the redirect URIs (repeat for several)',
        collect,
      )
      .option(
        '--remember-device-hours <n>',
        'web-sdk: hours the prompt may remember a device (0 = never)',
        nonNegativeInt,
      ),
  ).action(async (ref: string, flags: AppFlags) =>
    withContext(flags, async (ctx) => {
      const updated = await updateApplication(ctx, ref, settingsEdit(flags));
      const d = describe(updated);
      emit(flags, d, () => `Updated application "${d.name}".`);
    }),
  );

  commonOptions(
    app
      .command('delete <app>')
      .description('delete an application (its ikey stops working within a second)'),
  ).action(async (ref: string, flags: CommonFlags) =>
    withContext(flags, async (ctx) => {
      const deleted = await deleteApplication(ctx, ref);
      emit(
        flags,
        { deleted: true, app_id: deleted.id, name: deleted.name },
        () => `Deleted application "${deleted.name}".`,
      );
    }),
  );
}

function onOff(value: string | boolean, flag: string): boolean {
  if (value === true || value === 'on') return true;
  if (value === 'off') return false;
  throw new AirlockError('CLI_USAGE', undefined, {
    message: `${flag} must be on or off; got "${String(value)}"`,
  });
}

export function describe(a: Application) {
  return {
    id: a.id,
    name: a.name,
    ikey: a.ikey,
    type: a.type,
    new_user_policy: a.newUserPolicy,
    restriction_level: a.restrictionLevel,
    rate_limit: a.rateLimitPerSecond,
    verified_push: a.verifiedPush,
    username_normalization: a.usernameNormalization,
    allow_v1_signature: a.allowV1Signature,
    allowed_groups: a.allowedGroupIds,
    created: epochSeconds(a.createdAtMs),
    ...(a.type === 'web-sdk'
      ? { redirect_uris: a.redirectUris, remember_device_hours: a.rememberDeviceHours }
      : {}),
  };
}

/** The settings `app set` was given; a flag left out keeps its value. */
function settingsEdit(flags: AppFlags): ApplicationEdit {
  return {
    ...(flags.newUserPolicy
      ? { newUserPolicy: choice(flags.newUserPolicy, NEW_USER_POLICIES, '--new-user-policy') }
      : {}),
    ...(flags.restrictionLevel
      ? {
          restrictionLevel: choice(
            flags.restrictionLevel,
            RESTRICTION_LEVELS,
            '--restriction-level',
          ),
        }
      : {}),
    ...(flags.rateLimit !== undefined ? { rateLimitPerSecond: flags.rateLimit } : {}),
    ...(flags.verifiedPush !== undefined
      ? { verifiedPush: onOff(flags.verifiedPush, '--verified-push') }
      : {}),
    ...(flags.usernameNormalization
      ? {
          usernameNormalization: choice(
            flags.usernameNormalization,
            USERNAME_NORMALIZATIONS,
            '--username-normalization',
          ),
        }
      : {}),
    ...(flags.groups !== undefined ? { groups: splitList(flags.groups) } : {}),
    ...(flags.allowV1Signature !== undefined ? { allowV1Signature: flags.allowV1Signature } : {}),
    ...(flags.redirectUri !== undefined ? { redirectUris: flags.redirectUri } : {}),
    ...(flags.rememberDeviceHours !== undefined
      ? { rememberDeviceHours: flags.rememberDeviceHours }
      : {}),
  };
}
