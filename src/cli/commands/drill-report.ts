// How `airlock drill` reports, for the proxy's server sections and the gateway's applications
// alike: the matrix per section, the notes, and the mismatches on stderr with a failing exit.
import type { Failmode } from '../../core/failmode-decision.ts';
import { emit, table } from '../output.ts';

/** What the report needs of a cell; each drill adds its own columns. */
export interface ReportedDrillCell {
  section: string;
  scenario: string;
  declaredFailmode: Failmode;
  expectedFailmode: Failmode;
  expectedBy: 'config' | 'operator';
  match: boolean;
  mismatch: string | undefined;
}

/** The columns of a drill's matrix, in order: each a cell's value. */
export type DrillColumns<C> = Readonly<Record<string, (cell: C) => unknown>>;

/**
 * Prints the drill's report (its JSON with `--json`), and on any mismatch lists them on stderr and
 * sets a failing exit status; with `noCellsFailure`, a drill without cells fails with it too.
 */
export function reportDrill<C extends ReportedDrillCell>(
  flags: { json?: boolean },
  report: { ok: boolean; cells: C[]; notes: readonly string[] },
  substitutedFiles: readonly string[],
  columns: DrillColumns<C>,
  noCellsFailure?: string,
): void {
  const { cells } = report;
  const notes = [
    ...report.notes,
    ...[...new Set(substitutedFiles)].map(
      (f) => `${f} could not be read; the drill's own CA stood in for it (no effect on results).`,
    ),
  ];
  emit(flags, { ok: report.ok, cells, notes }, () => formatDrillReport(cells, notes, columns));
  const mismatches = cells.filter((c) => !c.match);
  const noCells = noCellsFailure !== undefined && cells.length === 0;
  if (mismatches.length > 0 || noCells) {
    process.stderr.write(
      [
        noCells
          ? noCellsFailure
          : `drill FAILED: ${mismatches.length} of ${cells.length} cell(s) do not behave as expected:`,
        ...mismatches.map((c) => `  [${c.section}] ${c.scenario}: ${c.mismatch}`),
        '',
      ].join('\n'),
    );
    // Not thrown: the matrix is the report; the exit status says it failed.
    process.exitCode = 1;
  }
}

/** One matrix per section under its expectation, then PASS or FAIL and the notes. */
export function formatDrillReport<C extends ReportedDrillCell>(
  cells: readonly C[],
  notes: readonly string[],
  columns: DrillColumns<C>,
): string {
  const bySection = new Map<string, C[]>();
  for (const cell of cells)
    bySection.set(cell.section, [...(bySection.get(cell.section) ?? []), cell]);
  const names = Object.keys(columns);
  const out: string[] = [];
  for (const [section, rows] of bySection) {
    const first = rows[0]!;
    const expectation =
      first.expectedBy === 'operator'
        ? `expected failmode=${first.expectedFailmode} (--expect; the config declares ${first.declaredFailmode})`
        : `failmode=${first.declaredFailmode} (declared)`;
    out.push(`[${section}] ${expectation}`);
    out.push(
      table(
        rows.map((c) => Object.fromEntries(names.map((name) => [name, columns[name]!(c)]))),
        names,
      ),
    );
    out.push('');
  }
  const failed = cells.filter((c) => !c.match).length;
  out.push(
    failed === 0
      ? `PASS: all ${cells.length} cell(s) behave as expected.`
      : `FAIL: ${failed} of ${cells.length} cell(s) do not behave as expected.`,
  );
  out.push(...notes.map((n) => `note: ${n}`));
  return out.join('\n');
}
