// Emergency-control limits from the environment, and the duration syntax the CLI accepts (30m, 1h).
import { EMERGENCY_DEFAULT_LIMITS, type EmergencyLimits } from '../core/emergency-control.ts';

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `90s`, `30m`, `1h`, `1h30m`, `2d`; undefined when the text is not such a duration (or is 0). */
export function parseDurationMs(text: string): number | undefined {
  const trimmed = text.trim().toLowerCase();
  if (!/^([0-9]+[smhd])+$/.test(trimmed)) return undefined;
  let ms = 0;
  for (const [, n, unit] of trimmed.matchAll(/([0-9]+)([smhd])/g)) {
    ms += Number(n) * UNIT_MS[unit as keyof typeof UNIT_MS];
  }
  return ms > 0 && Number.isSafeInteger(ms) ? ms : undefined;
}

/** `1h`, `1h30m`, `90s`: the shortest exact form of a duration. */
export function formatDurationMs(ms: number): string {
  let rest = Math.max(0, Math.round(ms / 1000));
  const parts: string[] = [];
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3_600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join('') || '0s';
}

/**
 * `AIRLOCK_EMERGENCY_MAX_DURATION` (default 24h): the longest an emergency control may last. A
 * control without `--for` lasts 1 hour (or the maximum, if that is shorter).
 */
export function emergencyLimitsFromEnv(env: Record<string, string | undefined>): EmergencyLimits {
  const text = env.AIRLOCK_EMERGENCY_MAX_DURATION;
  if (text === undefined || text === '') return EMERGENCY_DEFAULT_LIMITS;
  const maxDurationMs = parseDurationMs(text);
  if (maxDurationMs === undefined) {
    throw new RangeError(
      `AIRLOCK_EMERGENCY_MAX_DURATION must be a duration such as 4h or 90m, got "${text}"`,
    );
  }
  return {
    maxDurationMs,
    defaultDurationMs: Math.min(EMERGENCY_DEFAULT_LIMITS.defaultDurationMs, maxDurationMs),
  };
}
