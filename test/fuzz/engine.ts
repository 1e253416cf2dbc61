// A small coverage-guided mutation fuzzer (libFuzzer's loop in JavaScript) over the edge counters
// that coverage-hooks.js adds to src/. Used because Jazzer.js's native libFuzzer addon cannot load
// on this platform (see docs/security.md); the instrumentation is Jazzer.js's own.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

/** A fuzz target: `fuzz` returns normally for any input; whatever it throws is a finding. */
export interface FuzzTarget {
  readonly name: string;
  /** One line: which decoder and which invariants. */
  readonly description: string;
  /** Longest input the mutator makes. */
  readonly maxLength: number;
  /** Tokens the mutator inserts (like libFuzzer's -dict): keywords, magic numbers. */
  readonly dictionary?: readonly (string | Uint8Array)[];
  fuzz(data: Buffer): void;
}

export interface FuzzOptions {
  /** How long to mutate, after the seed corpus has been replayed. */
  readonly seconds: number;
  /** Seed inputs, replayed first (the regression corpus). */
  readonly seedDir: string;
  /** Where a failing input is written. */
  readonly findingsDir: string;
  /** When set, inputs that found new coverage are written here too. */
  readonly saveCorpusDir?: string | undefined;
  /** Deterministic runs for a given seed. */
  readonly randomSeed: number;
  /** One execution slower than this is a finding (a hang, or work proportional to a length field). */
  readonly slowInputMs: number;
  /** Growth of external + array-buffer memory past this is a finding (allocation from a length field). */
  readonly memoryLimitBytes: number;
  readonly log: (line: string) => void;
}

export interface FuzzReport {
  readonly target: string;
  readonly seeds: number;
  readonly executions: number;
  readonly seconds: number;
  readonly corpusSize: number;
  readonly edgesCovered: number;
  readonly finding?: { readonly message: string; readonly path: string } | undefined;
}

interface Coverage {
  counters: Uint8Array;
  edges: number;
}

const MAX_EDGES = 1 << 18;

/** The shared counters the instrumented modules write; create before any of them loads. */
export function installCoverage(): Coverage {
  const g = globalThis as { __airlockFuzz?: Coverage };
  g.__airlockFuzz ??= { counters: new Uint8Array(MAX_EDGES), edges: 0 };
  return g.__airlockFuzz;
}

export function runFuzzer(target: FuzzTarget, options: FuzzOptions): FuzzReport {
  const coverage = installCoverage();
  const random = new Xorshift(options.randomSeed);
  const virgin = new Uint8Array(MAX_EDGES);
  const corpus: Buffer[] = [];
  const mutator = new Mutator(random, target, corpus);
  const baseline = externalBytes();
  let executions = 0;

  // One execution: reset counters, run, then keep the input if it hit a new (edge, count bucket).
  const execute = (input: Buffer): { isNew: boolean; failure?: unknown } => {
    coverage.counters.fill(0, 0, coverage.edges);
    const started = performance.now();
    try {
      target.fuzz(input);
    } catch (failure) {
      return { isNew: false, failure };
    } finally {
      executions++;
    }
    // A slow input is timed again before it counts: on a shared machine one run can be
    // descheduled or meet a GC pause.
    if (performance.now() - started > options.slowInputMs) {
      const again = performance.now();
      target.fuzz(input);
      const elapsedMs = performance.now() - again;
      if (elapsedMs > options.slowInputMs) {
        return {
          isNew: false,
          failure: new Error(
            `one input took ${Math.round(elapsedMs)} ms twice (> ${options.slowInputMs})`,
          ),
        };
      }
    }
    if (executions % 1024 === 0 && externalBytes() - baseline > options.memoryLimitBytes) {
      return { isNew: false, failure: new Error('external memory grew past the limit') };
    }
    let isNew = false;
    const counters = coverage.counters;
    for (let i = 0; i < coverage.edges; i++) {
      const count = counters[i]!;
      if (count === 0) continue;
      const bit = bucketOf(count);
      if ((virgin[i]! & bit) === 0) {
        virgin[i]! |= bit;
        isNew = true;
      }
    }
    return { isNew };
  };

  const report = (seconds: number, finding?: FuzzReport['finding']): FuzzReport => ({
    target: target.name,
    seeds,
    executions,
    seconds: Math.round(seconds * 10) / 10,
    corpusSize: corpus.length,
    edgesCovered: countCovered(virgin),
    finding,
  });
  const fail = (input: Buffer, failure: unknown, seconds: number): FuzzReport => {
    const path = saveFinding(options.findingsDir, target.name, input);
    const message = failure instanceof Error ? (failure.stack ?? failure.message) : String(failure);
    options.log(`[${target.name}] FINDING after ${executions} inputs, input saved to ${path}`);
    options.log(message);
    return report(seconds, { message, path });
  };

  const start = performance.now();
  const elapsed = () => (performance.now() - start) / 1000;
  const seedInputs = readSeeds(options.seedDir);
  const seeds = seedInputs.length;
  for (const seed of seedInputs.length > 0 ? seedInputs : [Buffer.alloc(0)]) {
    const result = execute(seed);
    if (result.failure !== undefined) return fail(seed, result.failure, elapsed());
    if (result.isNew || corpus.length === 0) corpus.push(seed);
  }

  let nextStatus = 10;
  const deadline = options.seconds;
  while (elapsed() < deadline) {
    // Check the clock every 256 inputs: performance.now() is cheap but not free.
    for (let batch = 0; batch < 256; batch++) {
      const input = mutator.mutate();
      const result = execute(input);
      if (result.failure !== undefined) return fail(input, result.failure, elapsed());
      if (result.isNew) {
        corpus.push(input);
        if (options.saveCorpusDir) saveInput(join(options.saveCorpusDir, target.name), input);
      }
    }
    if (elapsed() >= nextStatus) {
      options.log(
        `[${target.name}] ${executions} inputs in ${Math.round(elapsed())} s, corpus ${corpus.length}, edges ${countCovered(virgin)}`,
      );
      nextStatus += 10;
    }
  }
  return report(elapsed());
}

/** AFL's hit-count buckets: 1, 2, 3, 4-7, 8-15, 16-31, 32-127, 128+. */
function bucketOf(count: number): number {
  if (count <= 3) return count === 3 ? 4 : count;
  if (count < 8) return 8;
  if (count < 16) return 16;
  if (count < 32) return 32;
  return count < 128 ? 64 : 128;
}

function countCovered(virgin: Uint8Array): number {
  let n = 0;
  for (const v of virgin) if (v !== 0) n++;
  return n;
}

function externalBytes(): number {
  const usage = process.memoryUsage();
  return usage.external + usage.arrayBuffers;
}

function readSeeds(dir: string): Buffer[] {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return [];
  }
  return names.filter((n) => !n.startsWith('.')).map((n) => readFileSync(join(dir, n)));
}

function saveInput(dir: string, input: Buffer): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, createHash('sha1').update(input).digest('hex'));
  writeFileSync(path, input);
  return path;
}

function saveFinding(dir: string, target: string, input: Buffer): string {
  return saveInput(join(dir, target), input);
}

/** xorshift32: a seeded, fast source for mutation choices (not for anything secret). */
class Xorshift {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0 || 0x9e3779b9;
  }

  /** An integer in [0, n). */
  below(n: number): number {
    let x = this.#state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#state = x >>> 0;
    return n <= 1 ? 0 : this.#state % n;
  }
}

const INTERESTING_8 = [0, 1, 2, 16, 20, 32, 64, 100, 127, 128, 253, 254, 255];
const INTERESTING_16 = [0, 1, 19, 20, 21, 255, 256, 4095, 4096, 4097, 32767, 32768, 65535];

/** libFuzzer's mutations, stacked 1-4 at a time on a corpus entry. */
class Mutator {
  readonly #random: Xorshift;
  readonly #target: FuzzTarget;
  readonly #corpus: readonly Buffer[];
  readonly #tokens: readonly Buffer[];

  constructor(random: Xorshift, target: FuzzTarget, corpus: readonly Buffer[]) {
    this.#random = random;
    this.#target = target;
    this.#corpus = corpus;
    this.#tokens = (target.dictionary ?? []).map((t) =>
      typeof t === 'string' ? Buffer.from(t, 'utf8') : Buffer.from(t),
    );
  }

  mutate(): Buffer {
    const r = this.#random;
    let data: Buffer = Buffer.from(this.#corpus[r.below(this.#corpus.length)]!);
    const rounds = 1 + r.below(4);
    for (let i = 0; i < rounds; i++) data = this.#mutateOnce(data);
    return data.length > this.#target.maxLength ? data.subarray(0, this.#target.maxLength) : data;
  }

  #mutateOnce(data: Buffer): Buffer {
    const r = this.#random;
    const at = (extra = 0) => r.below(data.length + extra);
    switch (r.below(data.length === 0 ? 3 : 12)) {
      case 0: // insert random bytes
        return splice(data, at(1), 0, randomBytes(r, 1 + r.below(8)));
      case 1: // insert a dictionary token
        return this.#tokens.length > 0
          ? splice(data, at(1), 0, this.#tokens[r.below(this.#tokens.length)]!)
          : splice(data, at(1), 0, randomBytes(r, 1));
      case 2: // crossover: a slice of another corpus entry
        return this.#crossover(data);
      case 3: // erase bytes
        return splice(data, at(), 1 + r.below(Math.min(16, data.length)), Buffer.alloc(0));
      case 4: // flip a bit
        data[at()]! ^= 1 << r.below(8);
        return data;
      case 5: // set a random byte
        data[at()] = r.below(256);
        return data;
      case 6: // interesting 8-bit value
        data[at()] = INTERESTING_8[r.below(INTERESTING_8.length)]!;
        return data;
      case 7: // interesting 16-bit big-endian value (RADIUS Length, attribute lengths)
        if (data.length >= 2)
          data.writeUInt16BE(INTERESTING_16[r.below(INTERESTING_16.length)]!, at(-1));
        return data;
      case 8: // overwrite with a dictionary token
        if (this.#tokens.length > 0) {
          const token = this.#tokens[r.below(this.#tokens.length)]!;
          token.copy(data, at(), 0, Math.min(token.length, data.length));
        }
        return data;
      case 9: // duplicate a run of bytes
        return this.#duplicate(data);
      case 10: // add or subtract a small number from a byte (ASCII digits, counters)
        data[at()] = (data[at()]! + r.below(70) - 35) & 0xff;
        return data;
      default: // copy a run of bytes over another place
        data.copy(data, at(), at(), at());
        return data;
    }
  }

  #crossover(data: Buffer): Buffer {
    const r = this.#random;
    const other = this.#corpus[r.below(this.#corpus.length)]!;
    if (other.length === 0) return data;
    const from = r.below(other.length);
    const piece = other.subarray(from, from + 1 + r.below(other.length - from));
    return splice(data, r.below(data.length + 1), r.below(2) * piece.length, piece);
  }

  #duplicate(data: Buffer): Buffer {
    const r = this.#random;
    const from = r.below(data.length);
    const piece = data.subarray(from, from + 1 + r.below(Math.min(64, data.length - from)));
    return splice(data, r.below(data.length + 1), 0, Buffer.from(piece));
  }
}

function splice(data: Buffer, at: number, remove: number, insert: Uint8Array): Buffer {
  return Buffer.concat([data.subarray(0, at), insert, data.subarray(at + remove)]);
}

function randomBytes(r: Xorshift, n: number): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = r.below(256);
  return out;
}
