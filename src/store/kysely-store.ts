// KyselyStore: the Store on Kysely, one implementation for both SQLite and PostgreSQL. It owns the
// connection, transactions, savepoint batches, migrations and close; every kind of record has its
// repository in repositories/, bound to the same Kysely instance (or transaction).
import type { Incident, IncidentStatus, IncidentUpdate, Subscription } from '../core/incident.ts';
import type { MessageKind, MessageLanguage } from '../core/user-messages.ts';
import type {
  ComponentOverride,
  HealthReport,
  NewIncident,
  StoredTemplate,
} from './outage-store.ts';
import { CompiledQuery } from 'kysely';
import type { Kysely, Transaction } from 'kysely';
import type { AuditEvent, NewAuditEvent } from '../core/model.ts';
import type { Admin, AdminApiKey, AdminSession } from '../core/admin-model.ts';
import type { NewAdmin, NewAdminApiKey, NewAdminSession } from './admin-store.ts';
import type { Clock } from '../runtime/clock.ts';
import { createStoreMigrator } from './migrations/migration-provider.ts';
import type { Database } from './schema.ts';
import type { SecretBox } from './secret-box.ts';
import type { AuditQuery, NewPromptLogin, PromptLogin, Store, StoreDialect } from './store.ts';
import { Repositories } from './repositories/repositories.ts';
import { RecordDelegates } from './record-delegates.ts';
import type { IntegrityReport, SealedSecretTally } from './maintenance-store.ts';
import { MaintenanceRepository } from './repositories/maintenance-repository.ts';
import type { NewResultEvent, ResultEvent, ResultEventKey } from './result-event-store.ts';
import { ResultEventsRepository } from './repositories/result-events-repository.ts';
import { RateBucketsRepository } from './repositories/rate-buckets-repository.ts';
import type { TakeResult, TokenBucketOptions } from '../core/token-bucket.ts';
import { LocalSignals, type StoreSignals } from './store-signals.ts';

export interface KyselyStoreOptions {
  db: Kysely<Database> | Transaction<Database>;
  dialect: StoreDialect;
  secretBox: SecretBox;
  clock: Clock;
  /** Wake-ups between processes on the database; default: none (one process). */
  signals?: StoreSignals;
}

const SAVEPOINT = CompiledQuery.raw('SAVEPOINT batch_item');
const RELEASE_SAVEPOINT = CompiledQuery.raw('RELEASE SAVEPOINT batch_item');
const ROLLBACK_TO_SAVEPOINT = CompiledQuery.raw('ROLLBACK TO SAVEPOINT batch_item');

export class KyselyStore extends RecordDelegates implements Store {
  readonly dialect: StoreDialect;
  readonly signals: StoreSignals;
  readonly #db: Kysely<Database>;
  readonly #secretBox: SecretBox;
  readonly #clock: Clock;
  readonly #repos: Repositories;
  #maintenance?: MaintenanceRepository;
  #resultEvents?: ResultEventsRepository;
  #rateBuckets?: RateBucketsRepository;

  constructor({ db, dialect, secretBox, clock, signals }: KyselyStoreOptions) {
    const repos = new Repositories({ db, dialect, secretBox, clock });
    super(repos);
    this.dialect = dialect;
    this.signals = signals ?? new LocalSignals();
    this.#db = db;
    this.#secretBox = secretBox;
    this.#clock = clock;
    this.#repos = repos;
  }

  async migrate(): Promise<string[]> {
    if (this.#db.isTransaction) throw new Error('migrate() cannot run inside a transaction');
    const migrator = createStoreMigrator(this.#db, this.dialect, { secretBox: this.#secretBox });
    const { error, results } = await migrator.migrateToLatest();
    if (error !== undefined) {
      const failed = results?.find((r) => r.status === 'Error')?.migrationName;
      const what = failed === undefined ? 'database migration' : `database migration ${failed}`;
      throw new Error(`${what} failed: ${errorMessage(error)}`, { cause: error });
    }
    return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  }

  async transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T> {
    if (this.#db.isTransaction) return fn(this);
    return this.#db.transaction().execute((trx) =>
      fn(
        new KyselyStore({
          db: trx,
          dialect: this.dialect,
          secretBox: this.#secretBox,
          clock: this.#clock,
          signals: this.signals,
        }),
      ),
    );
  }

  async runBatch<T>(
    items: readonly ((tx: Store) => Promise<T>)[],
  ): Promise<PromiseSettledResult<T>[]> {
    if (this.#db.isTransaction) throw new Error('runBatch() cannot run inside a transaction');
    if (items.length === 1) {
      // One unit: its own transaction is its savepoint.
      try {
        return [{ status: 'fulfilled', value: await this.transaction(items[0]!) }];
      } catch (reason) {
        return [{ status: 'rejected', reason }];
      }
    }
    return this.transaction(async (tx) => {
      const txDb = (tx as KyselyStore).#db;
      const results: PromiseSettledResult<T>[] = [];
      for (const item of items) {
        // A savepoint per item: one item's failure undoes only its own writes.
        await txDb.executeQuery(SAVEPOINT);
        try {
          const value = await item(tx);
          await txDb.executeQuery(RELEASE_SAVEPOINT);
          results.push({ status: 'fulfilled', value });
        } catch (reason) {
          await txDb.executeQuery(ROLLBACK_TO_SAVEPOINT);
          await txDb.executeQuery(RELEASE_SAVEPOINT);
          results.push({ status: 'rejected', reason });
        }
      }
      return results;
    });
  }

  async close(): Promise<void> {
    if (this.#db.isTransaction) throw new Error('close() cannot be called on a transaction store');
    await this.signals.close();
    await this.#db.destroy();
  }

  // ---- Delegated to the repositories (identity records: record-delegates.ts) ----

  createPromptLogin(input: NewPromptLogin): Promise<void> {
    return this.#repos.promptLogins.createPromptLogin(input);
  }
  getPromptLogin(idHash: string): Promise<PromptLogin | undefined> {
    return this.#repos.promptLogins.getPromptLogin(idHash);
  }
  finishPromptLogin(
    idHash: string,
    end: { status: 'allow' | 'deny'; outcome: string; codeHash: string; codeExpiresAtMs: number },
  ): Promise<boolean> {
    return this.#repos.promptLogins.finishPromptLogin(idHash, end);
  }
  claimAuthorizationCode(codeHash: string): Promise<PromptLogin | undefined> {
    return this.#repos.promptLogins.claimAuthorizationCode(codeHash);
  }
  claimSingleUse(mark: string, expiresAtMs: number, nowMs: number): Promise<boolean> {
    return this.#repos.promptLogins.claimSingleUse(mark, expiresAtMs, nowMs);
  }
  purgeExpiredPromptRecords(nowMs: number): Promise<number> {
    return this.#repos.promptLogins.purgeExpiredPromptRecords(nowMs);
  }
  rememberDevice(input: {
    tokenHash: string;
    appId: string;
    userId: string;
    expiresAtMs: number;
  }): Promise<void> {
    return this.#repos.promptLogins.rememberDevice(input);
  }
  isDeviceRemembered(
    tokenHash: string,
    appId: string,
    userId: string,
    nowMs: number,
  ): Promise<boolean> {
    return this.#repos.promptLogins.isDeviceRemembered(tokenHash, appId, userId, nowMs);
  }
  // Outage operations (migration 0011).
  listMessageTemplates(): Promise<StoredTemplate[]> {
    return this.#repos.outage.listMessageTemplates();
  }
  putMessageTemplate(template: StoredTemplate): Promise<void> {
    return this.#repos.outage.putMessageTemplate(template);
  }
  deleteMessageTemplate(kind: MessageKind, language: MessageLanguage): Promise<boolean> {
    return this.#repos.outage.deleteMessageTemplate(kind, language);
  }
  createIncident(input: NewIncident, firstUpdate: { body: string }): Promise<Incident> {
    return this.#repos.outage.createIncident(input, firstUpdate);
  }
  getIncident(id: number): Promise<Incident | undefined> {
    return this.#repos.outage.getIncident(id);
  }
  listIncidents(query: { open?: boolean; limit?: number } = {}): Promise<Incident[]> {
    return this.#repos.outage.listIncidents(query);
  }
  addIncidentUpdate(
    incidentId: number,
    expectedStatus: IncidentStatus,
    update: { status: IncidentStatus; body: string; createdAtMs: number; actor: string },
  ): Promise<Incident | undefined> {
    return this.#repos.outage.addIncidentUpdate(incidentId, expectedStatus, update);
  }
  listIncidentUpdates(incidentId: number): Promise<IncidentUpdate[]> {
    return this.#repos.outage.listIncidentUpdates(incidentId);
  }
  createSubscription(subscription: Subscription): Promise<Subscription> {
    return this.#repos.outage.createSubscription(subscription);
  }
  listSubscriptions(): Promise<Subscription[]> {
    return this.#repos.outage.listSubscriptions();
  }
  deleteSubscription(id: string): Promise<boolean> {
    return this.#repos.outage.deleteSubscription(id);
  }
  putComponentOverride(override: ComponentOverride): Promise<void> {
    return this.#repos.outage.putComponentOverride(override);
  }
  deleteComponentOverride(componentId: string): Promise<boolean> {
    return this.#repos.outage.deleteComponentOverride(componentId);
  }
  listComponentOverrides(): Promise<ComponentOverride[]> {
    return this.#repos.outage.listComponentOverrides();
  }
  putHealthReport(report: HealthReport, appId: string): Promise<boolean> {
    return this.#repos.outage.putHealthReport(report, appId);
  }
  listHealthReports(): Promise<HealthReport[]> {
    return this.#repos.outage.listHealthReports();
  }
  appendAudit(event: NewAuditEvent): Promise<number> {
    return this.#repos.audit.appendAudit(event);
  }
  listAudit(query: AuditQuery = {}): Promise<AuditEvent[]> {
    return this.#repos.audit.listAudit(query);
  }
  countAudit(query: AuditQuery = {}): Promise<number> {
    return this.#repos.audit.countAudit(query);
  }
  createAdmin(input: NewAdmin): Promise<Admin> {
    return this.#repos.admins.createAdmin(input);
  }
  getAdmin(id: string): Promise<Admin | undefined> {
    return this.#repos.admins.getAdmin(id);
  }
  findAdmin(username: string): Promise<Admin | undefined> {
    return this.#repos.admins.findAdmin(username);
  }
  listAdmins(): Promise<Admin[]> {
    return this.#repos.admins.listAdmins();
  }
  setAdminDisabled(id: string, disabled: boolean): Promise<Admin> {
    return this.#repos.admins.setAdminDisabled(id, disabled);
  }
  claimAdminTotpStep(adminId: string, step: number): Promise<boolean> {
    return this.#repos.admins.claimAdminTotpStep(adminId, step);
  }
  createAdminApiKey(input: NewAdminApiKey): Promise<AdminApiKey> {
    return this.#repos.admins.createAdminApiKey(input);
  }
  getAdminApiKey(ikey: string): Promise<AdminApiKey | undefined> {
    return this.#repos.admins.getAdminApiKey(ikey);
  }
  listAdminApiKeys(): Promise<AdminApiKey[]> {
    return this.#repos.admins.listAdminApiKeys();
  }
  deleteAdminApiKey(ikey: string): Promise<boolean> {
    return this.#repos.admins.deleteAdminApiKey(ikey);
  }
  touchAdminApiKey(ikey: string, nowMs: number): Promise<void> {
    return this.#repos.admins.touchAdminApiKey(ikey, nowMs);
  }
  createAdminSession(input: NewAdminSession): Promise<AdminSession> {
    return this.#repos.admins.createAdminSession(input);
  }
  getAdminSession(idHash: string): Promise<AdminSession | undefined> {
    return this.#repos.admins.getAdminSession(idHash);
  }
  touchAdminSession(idHash: string, nowMs: number): Promise<void> {
    return this.#repos.admins.touchAdminSession(idHash, nowMs);
  }
  deleteAdminSession(idHash: string): Promise<boolean> {
    return this.#repos.admins.deleteAdminSession(idHash);
  }
  deleteExpiredAdminSessions(nowMs: number, idleSinceMs: number): Promise<number> {
    return this.#repos.admins.deleteExpiredAdminSessions(nowMs, idleSinceMs);
  }

  // ---- The result stream's events (migration 0013) ----

  get #resultEventsRepo(): ResultEventsRepository {
    return (this.#resultEvents ??= new ResultEventsRepository(this.#repos));
  }
  appendResultEvent(event: NewResultEvent): Promise<void> {
    return this.#resultEventsRepo.appendResultEvent(event);
  }
  listResultEvents(query: {
    after?: ResultEventKey | undefined;
    appId?: string | undefined;
    limit: number;
  }): Promise<{ events: ResultEvent[]; held: boolean }> {
    return this.#resultEventsRepo.listResultEvents(query);
  }
  latestResultEventKey(): Promise<ResultEventKey> {
    return this.#resultEventsRepo.latestResultEventKey();
  }
  pruneResultEvents(beforeMs: number): Promise<number> {
    return this.#resultEventsRepo.pruneResultEvents(beforeMs);
  }

  // ---- Token buckets shared by the nodes (migration 0013) ----

  get #rateBucketsRepo(): RateBucketsRepository {
    return (this.#rateBuckets ??= new RateBucketsRepository(this.#repos));
  }
  takeRateToken(key: string, nowMs: number, options: TokenBucketOptions): Promise<TakeResult> {
    return this.#rateBucketsRepo.takeRateToken(key, nowMs, options);
  }
  pruneRateBuckets(beforeMs: number): Promise<number> {
    return this.#rateBucketsRepo.pruneRateBuckets(beforeMs);
  }

  // ---- Maintenance (db verify, db backup, secret-key rotate) ----

  get #maintenanceRepo(): MaintenanceRepository {
    return (this.#maintenance ??= new MaintenanceRepository(this.#repos));
  }
  schemaVersion(): Promise<number> {
    return this.#maintenanceRepo.schemaVersion();
  }
  checkIntegrity(): Promise<IntegrityReport> {
    return this.#maintenanceRepo.checkIntegrity();
  }
  tallySealedSecrets(): Promise<SealedSecretTally[]> {
    return this.#maintenanceRepo.tallySealedSecrets();
  }
  resealSecrets(next: SecretBox): Promise<SealedSecretTally[]> {
    return this.#maintenanceRepo.resealSecrets(next);
  }
  countLiveBypassCodes(nowMs: number): Promise<number> {
    return this.#maintenanceRepo.countLiveBypassCodes(nowMs);
  }
  deleteAllBypassCodes(): Promise<number> {
    return this.#maintenanceRepo.deleteAllBypassCodes();
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
