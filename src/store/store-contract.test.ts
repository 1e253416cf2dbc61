// The Store contract: one suite, run against SQLite (temp dir) and PostgreSQL (AIRLOCK_TEST_DATABASE_URL).
// Each part lives in contract/<records>.contract.ts; this runner opens one store per backend and
// runs every part on it.
import { after, before, describe, test } from 'node:test';
import type { User } from '../core/model.ts';
import type { FixedClock } from '../runtime/clock.ts';
import type { Store } from './store.ts';
import {
  postgresBackend,
  sqliteBackend,
  type Backend,
  type ContractContext,
  type Opened,
  type RawSql,
} from './contract/harness.ts';
import { migrationsContract } from './contract/migrations.contract.ts';
import { devicesContract } from './contract/devices.contract.ts';
import { applicationsContract } from './contract/applications.contract.ts';
import { usersContract } from './contract/users.contract.ts';
import { groupsContract } from './contract/groups.contract.ts';
import { otpTokensContract } from './contract/otp-tokens.contract.ts';
import { bypassCodesContract } from './contract/bypass-codes.contract.ts';
import { enrollmentsContract } from './contract/enrollments.contract.ts';
import { auditContract } from './contract/audit.contract.ts';
import { policiesContract } from './contract/policies.contract.ts';
import { emergencyControlsContract } from './contract/emergency-controls.contract.ts';
import { adminsContract } from './contract/admins.contract.ts';
import { transactionsContract } from './contract/transactions.contract.ts';
import { sealedSecretsContract } from './contract/sealed-secrets.contract.ts';
import { promptLoginsContract } from './contract/prompt-logins.contract.ts';
import { outageContract } from './contract/outage.contract.ts';
import { resultEventsContract } from './contract/result-events.contract.ts';
import { rateBucketsContract } from './contract/rate-buckets.contract.ts';

function storeContract(backend: Backend): void {
  void describe(`Store contract on ${backend.dialect}`, () => {
    let opened: Opened;
    let store: Store;
    let raw: RawSql;
    let clock: FixedClock;

    let openError: Error | undefined;

    before(async () => {
      try {
        opened = await backend.open();
        ({ store, raw, clock } = opened);
      } catch (err) {
        openError = err instanceof Error ? err : new Error(String(err));
      }
    });
    after(async () => {
      if (openError === undefined) await opened.cleanup();
    });

    // Every test fails, and counts as failed, when the backend could not be opened; a failing
    // before hook would only mark them cancelled, which reads as "# fail 0".
    const contractTest = (name: string, fn: () => Promise<void> | void) =>
      test(name, async () => {
        if (openError !== undefined) throw openError;
        await fn();
      });

    const createUser = (id: string, extra: { aliases?: string[] } = {}): Promise<User> =>
      store.createUser({ id, username: `user-${id}`, ...extra });

    const context: ContractContext = {
      backend,
      opened: () => ({ store, raw, clock }),
      contractTest,
      createUser,
    };
    migrationsContract(context);
    devicesContract(context);
    applicationsContract(context);
    usersContract(context);
    groupsContract(context);
    otpTokensContract(context);
    bypassCodesContract(context);
    enrollmentsContract(context);
    auditContract(context);
    policiesContract(context);
    emergencyControlsContract(context);
    adminsContract(context);
    transactionsContract(context);
    sealedSecretsContract(context);
    promptLoginsContract(context);
    outageContract(context);
    resultEventsContract(context);
    rateBucketsContract(context);
  });
}

storeContract(sqliteBackend);
storeContract(postgresBackend);
