// The login's subject: a user with their aliases, groups, tokens, bypass codes, devices and SMS
// passcodes, read in one fixed statement (hot-queries.ts), the hot path of every login.
import type { Selectable } from 'kysely';
import { usernameKey, type UsernameNormalization } from '../../core/username.ts';
import type {
  BypassCodesTable,
  DevicesTable,
  GroupsTable,
  OtpTokensTable,
  SmsPasscodesTable,
  UsersTable,
} from '../schema.ts';
import type { AuthSubject } from '../store.ts';
import { Repository, type StoreContext } from './repository.ts';
import {
  jsonList,
  toBypassCode,
  toDevice,
  toGroup,
  toOtpToken,
  toSmsPasscode,
  toUser,
} from './rows.ts';
import type { UsersRepository } from './users-repository.ts';

/** `ORDER BY created_at_ms, id`. */
function byCreation(a: { created_at_ms: number; id: string }, b: typeof a): number {
  return a.created_at_ms - b.created_at_ms || compareText(a.id, b.id);
}

/**
 * SQLite's order of text (BINARY: UTF-8 bytes, which is code point order). JavaScript's `<` compares
 * UTF-16 units, which puts a character above U+FFFF (a surrogate pair) before U+E000–U+FFFF.
 */
export function compareText(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const xSurrogate = x >= 0xd800 && x <= 0xdfff;
    const ySurrogate = y >= 0xd800 && y <= 0xdfff;
    if (xSurrogate !== ySurrogate) return xSurrogate ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

export class AuthSubjectRepository extends Repository {
  readonly #users: UsersRepository;

  constructor(context: StoreContext, users: UsersRepository) {
    super(context);
    this.#users = users;
  }

  /**
   * A login's subject row: by id, or by the name's folded key in one statement (username, then
   * alias); only a name that matches no key exactly takes the "simple" normalization's second look.
   */
  async #subjectRow<R>(
    ref: { username: string; normalization?: UsernameNormalization } | { userId: string },
  ): Promise<R | undefined> {
    if ('userId' in ref) return (await this.run<R>('subjectById', [ref.userId])).rows[0];
    const key = usernameKey(ref.username);
    if (key === '') return undefined;
    const exact =
      (await this.run<R>('subjectByUsernameKey', [key])).rows[0] ??
      (await this.run<R>('subjectByAliasKey', [key])).rows[0];
    if (exact !== undefined || (ref.normalization ?? 'none') === 'none') return exact;
    const id = await this.#users.resolveUserId(ref.username, 'simple');
    return id === undefined ? undefined : (await this.run<R>('subjectById', [id])).rows[0];
  }

  async loadAuthSubject(
    ref: { username: string; normalization?: UsernameNormalization } | { userId: string },
  ): Promise<AuthSubject | undefined> {
    type SubjectRow = Selectable<UsersTable> & {
      aliases_json: unknown;
      groups_json: unknown;
      tokens_json: unknown;
      codes_json: unknown;
      devices_json: unknown;
      sms_json: unknown;
    };
    const row = await this.#subjectRow<SubjectRow>(ref);
    if (row === undefined) return undefined;
    const {
      aliases_json,
      groups_json,
      tokens_json,
      codes_json,
      devices_json,
      sms_json,
      ...userRow
    } = row;
    // The statement's lists are unordered (hot-queries.ts says why): the order every other read
    // of them uses is made here.
    return {
      user: toUser(userRow, jsonList<string>(aliases_json).sort(compareText), this.clock.nowMs()),
      groups: jsonList<Selectable<GroupsTable>>(groups_json)
        .sort((a, b) => compareText(a.name, b.name))
        .map(toGroup),
      tokens: jsonList<Selectable<OtpTokensTable>>(tokens_json)
        .sort(byCreation)
        .map((t) => toOtpToken(t, this.secretBox)),
      bypassCodes: jsonList<Selectable<BypassCodesTable>>(codes_json)
        .sort(byCreation)
        .map(toBypassCode),
      devices: jsonList<Selectable<DevicesTable>>(devices_json).sort(byCreation).map(toDevice),
      smsPasscodes: jsonList<Selectable<SmsPasscodesTable>>(sms_json)
        .sort((a, b) => a.seq - b.seq || compareText(a.id, b.id))
        .map(toSmsPasscode),
    };
  }
}
