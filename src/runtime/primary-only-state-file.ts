// Primary-only mode's state file: the record the CLI or an emergency control writes and the proxy
// reads, plus an append-only history of changes. Below both the service and the proxy, so either
// can switch the mode without importing the other.
import {
  appendFileSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { newPrimaryOnlyRecord, type PrimaryOnlyRecord } from '../core/primary-only.ts';

const STATE_FILE = 'primary-only.json';
const HISTORY_FILE = 'primary-only-history.jsonl';

export interface PrimaryOnlyChange {
  tsMs: number;
  action: 'enable' | 'disable';
  actor: string;
  reason: string;
  expiresAtMs?: number;
}

/** Reads the persisted record; a missing or unreadable file means "off" (2FA stays required). */
export function readPrimaryOnly(stateDir: string): PrimaryOnlyRecord | undefined {
  let text: string;
  try {
    text = readFileSync(join(stateDir, STATE_FILE), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const v = JSON.parse(text) as Partial<PrimaryOnlyRecord>;
    if (
      typeof v.enabledAtMs === 'number' &&
      typeof v.expiresAtMs === 'number' &&
      typeof v.actor === 'string' &&
      typeof v.reason === 'string'
    ) {
      return {
        enabledAtMs: v.enabledAtMs,
        expiresAtMs: v.expiresAtMs,
        actor: v.actor,
        reason: v.reason,
      };
    }
  } catch {
    // Corrupt state: fail secure, as if the mode were off.
  }
  return undefined;
}

export function enablePrimaryOnly(
  stateDir: string,
  input: { nowMs: number; minutes: number; actor: string; reason: string },
): PrimaryOnlyRecord {
  return writePrimaryOnly(stateDir, newPrimaryOnlyRecord(input));
}

/**
 * Switches primary-only mode on with a record made elsewhere (an emergency control, whose expiry
 * is not a whole number of minutes). The proxy ends the mode at `expiresAtMs` by itself.
 */
export function writePrimaryOnly(stateDir: string, record: PrimaryOnlyRecord): PrimaryOnlyRecord {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const tmp = join(stateDir, `${STATE_FILE}.${process.pid}.tmp`);
  writeFileSync(tmp, `${JSON.stringify(record)}\n`, { mode: 0o600 });
  renameSync(tmp, join(stateDir, STATE_FILE)); // atomic: the proxy never reads half a file
  appendHistory(stateDir, {
    tsMs: record.enabledAtMs,
    action: 'enable',
    actor: record.actor,
    reason: record.reason,
    expiresAtMs: record.expiresAtMs,
  });
  return record;
}

export function disablePrimaryOnly(
  stateDir: string,
  input: { nowMs: number; actor: string; reason: string },
): boolean {
  const had = readPrimaryOnly(stateDir) !== undefined;
  rmSync(join(stateDir, STATE_FILE), { force: true });
  if (had)
    appendHistory(stateDir, {
      tsMs: input.nowMs,
      action: 'disable',
      actor: input.actor,
      reason: input.reason,
    });
  return had;
}

export function readPrimaryOnlyHistory(stateDir: string): PrimaryOnlyChange[] {
  try {
    return readFileSync(join(stateDir, HISTORY_FILE), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as PrimaryOnlyChange);
  } catch {
    return [];
  }
}

function appendHistory(stateDir: string, change: PrimaryOnlyChange): void {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  appendFileSync(join(stateDir, HISTORY_FILE), `${JSON.stringify(change)}\n`, { mode: 0o600 });
}
