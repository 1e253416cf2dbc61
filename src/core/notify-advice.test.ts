// The notification rule over its table: (time, weekday, quarter week, criticality, minutes
// unresolved) → send now or can wait, with the deciding reason.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { adviseNotification, isLastWeekOfQuarter, type BusinessHours } from './notify-advice.ts';

const BERLIN: BusinessHours = {
  timeZone: 'Europe/Berlin',
  startHour: 8,
  endHour: 18,
  weekdays: [1, 2, 3, 4, 5],
};

/** [local time in Berlin, minutes unresolved, critical app, expected advice, a reason given]. */
const TABLE: [string, number, string | null, 'send-now' | 'can-wait', RegExp][] = [
  // The guide's two examples: 11:00 on a weekday, 23:00 at a weekend.
  ['2026-11-04T11:00', 5, null, 'send-now', /^within business hours \(Wednesday 11:00/],
  ['2026-11-07T23:00', 5, null, 'can-wait', /^no critical application/],
  // Edges of business hours (08-18, Monday to Friday).
  ['2026-11-04T07:59', 5, null, 'can-wait', /outside business hours \(Wednesday 07:59/],
  ['2026-11-04T08:00', 5, null, 'send-now', /^within business hours/],
  ['2026-11-04T17:59', 5, null, 'send-now', /^within business hours/],
  ['2026-11-04T18:00', 5, null, 'can-wait', /outside business hours/],
  ['2026-11-08T11:00', 5, null, 'can-wait', /outside business hours \(Sunday 11:00/],
  // 20 minutes unresolved: send, whatever the time.
  ['2026-11-07T23:00', 19, null, 'can-wait', /^no critical/],
  ['2026-11-07T23:00', 20, null, 'send-now', /^unresolved for 20 minutes \(20 or more\)/],
  ['2026-11-08T03:10', 95, null, 'send-now', /^unresolved for 95 minutes/],
  // Last week of a quarter (the last 7 days of Mar, Jun, Sep, Dec), even at night.
  ['2026-12-26T23:00', 5, null, 'send-now', /^last week of a quarter/],
  ['2026-12-24T23:00', 5, null, 'can-wait', /not the last week of a quarter/],
  ['2026-09-24T02:00', 5, null, 'send-now', /^last week of a quarter/],
  ['2026-11-28T23:00', 5, null, 'can-wait', /not the last week/],
  // A critical application: send whatever the time, date or anything else.
  ['2026-11-07T23:00', 1, 'payroll', 'send-now', /^a critical application is affected \(payroll\)/],
];

/** `YYYY-MM-DDTHH:MM` Berlin time (CET, UTC+1, in November and December) to epoch ms. */
function berlin(local: string, summer = false): number {
  return Date.parse(`${local}:00${summer ? '+02:00' : '+01:00'}`);
}

describe('adviseNotification', () => {
  for (const [local, minutes, critical, advice, reason] of TABLE) {
    it(`${advice} at ${local} Berlin, ${minutes} min unresolved${critical ? `, ${critical} critical` : ''}`, () => {
      const nowMs = berlin(local, local.startsWith('2026-09'));
      const result = adviseNotification({
        nowMs,
        incident: { startedAtMs: nowMs - minutes * 60_000, resolved: false },
        criticalApplications: critical ? [critical] : [],
        businessHours: BERLIN,
      });
      assert.equal(result.advice, advice, result.reasons.join('; '));
      // send-now: the deciding criterion comes first; can-wait: every criterion is unmet.
      if (advice === 'send-now') assert.match(result.reasons[0] ?? '', reason);
      else
        assert.ok(
          result.reasons.some((r) => reason.test(r)),
          result.reasons.join('; '),
        );
      assert.equal(result.reasons.length, 4);
      if (advice === 'can-wait') {
        assert.equal(result.recheckAtMs, nowMs - minutes * 60_000 + 20 * 60_000);
      }
    });
  }

  it('says a resolved incident needs no outage message', () => {
    const r = adviseNotification({
      nowMs: berlin('2026-11-04T11:00'),
      incident: { startedAtMs: 0, resolved: true },
      criticalApplications: ['payroll'],
      businessHours: BERLIN,
    });
    assert.equal(r.advice, 'can-wait');
    assert.match(r.reasons[0] ?? '', /resolved/);
  });

  it('reads the business day in the configured time zone, not UTC', () => {
    // 23:30 UTC on a Friday is 08:30 on Saturday in Tokyo: a weekend there.
    const nowMs = Date.parse('2026-11-06T23:30:00Z');
    const at = (timeZone: string) =>
      adviseNotification({
        nowMs,
        incident: { startedAtMs: nowMs, resolved: false },
        criticalApplications: [],
        businessHours: { ...BERLIN, timeZone, endHour: 24, startHour: 8 },
      }).advice;
    assert.equal(at('Asia/Tokyo'), 'can-wait');
    assert.equal(at('UTC'), 'send-now');
  });

  it('finds the last week of each quarter, leap years included', () => {
    assert.equal(isLastWeekOfQuarter({ year: 2028, month: 3, day: 25 }), true);
    assert.equal(isLastWeekOfQuarter({ year: 2028, month: 3, day: 24 }), false);
    assert.equal(isLastWeekOfQuarter({ year: 2026, month: 6, day: 24 }), true);
    assert.equal(isLastWeekOfQuarter({ year: 2026, month: 2, day: 28 }), false);
  });
});
