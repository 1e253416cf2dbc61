// One store's repositories, each built on first use: a transaction store (KyselyStore.transaction)
// pays only for the repositories its work touches. It is also their shared StoreContext.
import type { Kysely } from 'kysely';
import type { Clock } from '../../runtime/clock.ts';
import { hotQueries, type HotQuery } from '../hot-queries.ts';
import type { Database } from '../schema.ts';
import type { SecretBox } from '../secret-box.ts';
import type { StoreDialect } from '../store.ts';
import type { StoreContext } from './repository.ts';
import { UsersRepository } from './users-repository.ts';
import { AuthSubjectRepository } from './auth-subject-repository.ts';
import { ApplicationsRepository } from './applications-repository.ts';
import { GroupsRepository } from './groups-repository.ts';
import { OtpTokensRepository } from './otp-tokens-repository.ts';
import { BypassCodesRepository } from './bypass-codes-repository.ts';
import { EnrollmentsRepository } from './enrollments-repository.ts';
import { DevicesRepository } from './devices-repository.ts';
import { OobRequestsRepository } from './oob-requests-repository.ts';
import { PoliciesRepository } from './policies-repository.ts';
import { EmergencyControlsRepository } from './emergency-controls-repository.ts';
import { AuditRepository } from './audit-repository.ts';
import { AdminsRepository } from './admins-repository.ts';
import { PromptLoginsRepository } from './prompt-logins-repository.ts';
import { OutageRepository } from './outage-repository.ts';

export class Repositories implements StoreContext {
  readonly db: Kysely<Database>;
  readonly dialect: StoreDialect;
  readonly secretBox: SecretBox;
  readonly clock: Clock;
  readonly hot: Readonly<Record<HotQuery, string>>;
  #users?: UsersRepository;
  #subjects?: AuthSubjectRepository;
  #applications?: ApplicationsRepository;
  #groups?: GroupsRepository;
  #otpTokens?: OtpTokensRepository;
  #bypassCodes?: BypassCodesRepository;
  #enrollments?: EnrollmentsRepository;
  #devices?: DevicesRepository;
  #oobRequests?: OobRequestsRepository;
  #policies?: PoliciesRepository;
  #emergencyControls?: EmergencyControlsRepository;
  #audit?: AuditRepository;
  #admins?: AdminsRepository;
  #promptLogins?: PromptLoginsRepository;
  #outage?: OutageRepository;

  constructor({ db, dialect, secretBox, clock }: Omit<StoreContext, 'hot'>) {
    this.db = db;
    this.dialect = dialect;
    this.secretBox = secretBox;
    this.clock = clock;
    this.hot = hotQueries(dialect);
  }

  get users(): UsersRepository {
    return (this.#users ??= new UsersRepository(this));
  }

  get subjects(): AuthSubjectRepository {
    return (this.#subjects ??= new AuthSubjectRepository(this, this.users));
  }

  get applications(): ApplicationsRepository {
    return (this.#applications ??= new ApplicationsRepository(this));
  }

  get groups(): GroupsRepository {
    return (this.#groups ??= new GroupsRepository(this));
  }

  get otpTokens(): OtpTokensRepository {
    return (this.#otpTokens ??= new OtpTokensRepository(this));
  }

  get bypassCodes(): BypassCodesRepository {
    return (this.#bypassCodes ??= new BypassCodesRepository(this));
  }

  get enrollments(): EnrollmentsRepository {
    return (this.#enrollments ??= new EnrollmentsRepository(this));
  }

  get devices(): DevicesRepository {
    return (this.#devices ??= new DevicesRepository(this));
  }

  get oobRequests(): OobRequestsRepository {
    return (this.#oobRequests ??= new OobRequestsRepository(this));
  }

  get policies(): PoliciesRepository {
    return (this.#policies ??= new PoliciesRepository(this));
  }

  get emergencyControls(): EmergencyControlsRepository {
    return (this.#emergencyControls ??= new EmergencyControlsRepository(this));
  }

  get audit(): AuditRepository {
    return (this.#audit ??= new AuditRepository(this));
  }

  get admins(): AdminsRepository {
    return (this.#admins ??= new AdminsRepository(this));
  }

  get promptLogins(): PromptLoginsRepository {
    return (this.#promptLogins ??= new PromptLoginsRepository(this));
  }

  get outage(): OutageRepository {
    return (this.#outage ??= new OutageRepository(this));
  }
}
