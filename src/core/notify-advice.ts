// The outage guide's rule for when to tell users about an incident: time of day and weekday,
// the last week of a quarter, the criticality of the affected applications, 20 minutes unresolved.

export const NOTIFY_ADVICE = ['send-now', 'can-wait'] as const;
export type NotifyAdvice = (typeof NOTIFY_ADVICE)[number];

/** The guide: an incident unresolved for 20 minutes or more calls for a message. */
export const UNRESOLVED_NOTIFY_MINUTES = 20;

export interface BusinessHours {
  /** IANA time zone the hours are in, e.g. `Europe/Berlin`. */
  timeZone: string;
  /** First hour of business (0-23), inclusive. */
  startHour: number;
  /** End of business (1-24), exclusive. */
  endHour: number;
  /** Business days, 0 = Sunday … 6 = Saturday. */
  weekdays: readonly number[];
}

export const DEFAULT_BUSINESS_HOURS: BusinessHours = Object.freeze({
  timeZone: 'UTC',
  startHour: 8,
  endHour: 18,
  weekdays: Object.freeze([1, 2, 3, 4, 5]),
});

export interface NotifyAdviceInput {
  nowMs: number;
  incident: { startedAtMs: number; resolved: boolean };
  /** Names of the affected applications that are critical (configured); empty = none. */
  criticalApplications: readonly string[];
  businessHours: BusinessHours;
}

export interface NotifyAdviceResult {
  advice: NotifyAdvice;
  /** Every criterion, the deciding ones first. */
  reasons: string[];
  /** With `can-wait`: when to ask again (20 minutes reached or business hours begin). */
  recheckAtMs?: number;
}

const DAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** Local calendar fields of `ms` in `timeZone`. */
export function localTime(
  ms: number,
  timeZone: string,
): { year: number; month: number; day: number; hour: number; minute: number; weekday: number } {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    weekday: 'short',
    hourCycle: 'h23',
  }).formatToParts(new Date(ms));
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return {
    year: Number(get('year')),
    month: Number(get('month')),
    day: Number(get('day')),
    hour: Number(get('hour')),
    minute: Number(get('minute')),
    weekday: ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(get('weekday')),
  };
}

/** The last seven days of March, June, September and December. */
export function isLastWeekOfQuarter(local: { year: number; month: number; day: number }): boolean {
  if (local.month % 3 !== 0) return false;
  const daysInMonth = new Date(Date.UTC(local.year, local.month, 0)).getUTCDate();
  return local.day > daysInMonth - 7;
}

export function isBusinessTime(
  local: { hour: number; weekday: number },
  hours: BusinessHours,
): boolean {
  return (
    hours.weekdays.includes(local.weekday) &&
    local.hour >= hours.startHour &&
    local.hour < hours.endHour
  );
}

/** Send now, or it can wait, and why. */
export function adviseNotification(input: NotifyAdviceInput): NotifyAdviceResult {
  const { nowMs, incident, businessHours } = input;
  if (incident.resolved) {
    return {
      advice: 'can-wait',
      reasons: [
        'the incident is resolved: no outage message; send the all-clear to whoever was told',
      ],
    };
  }
  const local = localTime(nowMs, businessHours.timeZone);
  const minutes = Math.floor((nowMs - incident.startedAtMs) / 60_000);
  const clock = `${DAY_NAMES[local.weekday] ?? '?'} ${String(local.hour).padStart(2, '0')}:${String(local.minute).padStart(2, '0')} ${businessHours.timeZone}`;
  const criteria: { met: boolean; yes: string; no: string }[] = [
    {
      met: input.criticalApplications.length > 0,
      yes: `a critical application is affected (${input.criticalApplications.join(', ')}): tell users whatever the time`,
      no: 'no critical application is affected',
    },
    {
      met: minutes >= UNRESOLVED_NOTIFY_MINUTES,
      yes: `unresolved for ${minutes} minutes (${UNRESOLVED_NOTIFY_MINUTES} or more)`,
      no: `unresolved for ${minutes} minutes (under ${UNRESOLVED_NOTIFY_MINUTES})`,
    },
    {
      met: isLastWeekOfQuarter(local),
      yes: 'last week of a quarter',
      no: 'not the last week of a quarter',
    },
    {
      met: isBusinessTime(local, businessHours),
      yes: `within business hours (${clock})`,
      no: `outside business hours (${clock})`,
    },
  ];
  const met = criteria.filter((c) => c.met).map((c) => c.yes);
  const unmet = criteria.filter((c) => !c.met).map((c) => c.no);
  if (met.length > 0) return { advice: 'send-now', reasons: [...met, ...unmet] };
  return {
    advice: 'can-wait',
    reasons: unmet,
    recheckAtMs: incident.startedAtMs + UNRESOLVED_NOTIFY_MINUTES * 60_000,
  };
}
