// CPU time of processes from /proc, for benchmarks that report CPU per request or per login: a
// figure that contention on a shared machine changes far less than requests per second.
import { readFileSync } from 'node:fs';

/** Linux clock ticks per second (`getconf CLK_TCK`), the unit of /proc/PID/stat times. */
const CLOCK_TICKS_PER_SECOND = 100;

/** CPU time (user + system, all threads) process `pid` used so far, ms. */
export function processCpuMs(pid: number): number {
  // proc(5): fields 14 and 15 (utime, stime) count from the state, after the ")" of comm.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
}

/** CPU time the whole machine spent busy so far, ms: /proc/stat's first line minus idle and iowait. */
export function machineCpuMs(): number {
  const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
  // user nice system idle iowait irq softirq steal (guest time is already in user and nice).
  const busy = ticks
    .slice(0, 8)
    .map(Number)
    .reduce((sum, t, i) => (i === 3 || i === 4 ? sum : sum + t), 0);
  return (busy * 1000) / CLOCK_TICKS_PER_SECOND;
}
