// CPU time of benchmark processes from /proc (Linux): what a login costs, which unlike a rate is
// not skewed by other jobs on a shared machine. (bench:radius has its own copy of these.)
import { readFileSync } from 'node:fs';

/** Linux clock ticks per second (`getconf CLK_TCK`), the unit of /proc/PID/stat times. */
const CLOCK_TICKS_PER_SECOND = 100;

/** CPU time (user + system, all threads) used so far, ms: the processes' and this one's. */
export function cpuSnapshot(processes: Record<string, number>): Record<string, number> {
  const snapshot: Record<string, number> = {};
  for (const [name, pid] of Object.entries(processes)) {
    // proc(5): fields 14 and 15 (utime, stime) count from the state, after the ")" of comm.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    snapshot[name] = ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
  }
  const own = process.cpuUsage();
  snapshot['load generator'] = (own.user + own.system) / 1000;
  return snapshot;
}

/** CPU time the whole machine spent busy so far, ms: /proc/stat's first line minus idle and iowait. */
export function machineCpuMs(): number {
  const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
  const busy = ticks
    .slice(0, 8)
    .map(Number)
    .reduce((sum, t, i) => (i === 3 || i === 4 ? sum : sum + t), 0);
  return (busy * 1000) / CLOCK_TICKS_PER_SECOND;
}
