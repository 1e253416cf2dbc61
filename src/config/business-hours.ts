// The notification rule's settings: business hours (time zone, hours, weekdays) and the critical
// applications, from flags or the environment (AIRLOCK_BUSINESS_HOURS, AIRLOCK_CRITICAL_APPS).
import { DEFAULT_BUSINESS_HOURS, type BusinessHours } from '../core/notify-advice.ts';

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/** `08-18` → start and end hour; a string is the error. */
export function parseHours(text: string): { startHour: number; endHour: number } | string {
  const m = /^([01]?\d|2[0-3])(?::00)?-([01]?\d|2[0-4])(?::00)?$/.exec(text.trim());
  if (!m) return `hours must be HH-HH (e.g. 08-18), got ${JSON.stringify(text)}`;
  const startHour = Number(m[1]);
  const endHour = Number(m[2]);
  if (endHour <= startHour) return `the end hour must be after the start hour, got ${text}`;
  return { startHour, endHour };
}

/** `mon-fri`, `mon,tue,sat`, `sun-thu` → day numbers (0 = Sunday); a string is the error. */
export function parseWeekdays(text: string): number[] | string {
  const days = new Set<number>();
  for (const part of text
    .toLowerCase()
    .split(',')
    .map((p) => p.trim())) {
    const [from, to] = part.split('-');
    const a = DAYS.indexOf(from ?? '');
    const b = to === undefined ? a : DAYS.indexOf(to);
    if (a < 0 || b < 0)
      return `weekdays must be like mon-fri or mon,wed,fri, got ${JSON.stringify(text)}`;
    for (let d = a; ; d = (d + 1) % 7) {
      days.add(d);
      if (d === b) break;
    }
  }
  return [...days].sort();
}

export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * Business hours from `--time-zone`, `--hours`, `--weekdays`, else AIRLOCK_BUSINESS_HOURS
 * (`Europe/Berlin 08-18 mon-fri`), else UTC 08-18 Monday to Friday. Errors are listed together.
 */
export function resolveBusinessHours(
  flags: {
    timeZone?: string | undefined;
    hours?: string | undefined;
    weekdays?: string | undefined;
  },
  env: Record<string, string | undefined>,
): BusinessHours | string[] {
  const [envZone, envHours, envDays] = (env.AIRLOCK_BUSINESS_HOURS ?? '').trim().split(/\s+/);
  const zone = flags.timeZone ?? (envZone || DEFAULT_BUSINESS_HOURS.timeZone);
  const hours = parseHours(
    flags.hours ??
      (envHours || `${DEFAULT_BUSINESS_HOURS.startHour}-${DEFAULT_BUSINESS_HOURS.endHour}`),
  );
  const weekdays = parseWeekdays(flags.weekdays ?? (envDays || 'mon-fri'));
  const errors = [
    ...(isTimeZone(zone) ? [] : [`unknown time zone ${JSON.stringify(zone)}`]),
    ...(typeof hours === 'string' ? [hours] : []),
    ...(typeof weekdays === 'string' ? [weekdays] : []),
  ];
  if (errors.length > 0 || typeof hours === 'string' || typeof weekdays === 'string') return errors;
  return { timeZone: zone, ...hours, weekdays };
}
