// Module hooks for `npm run fuzz`: add edge counters to Airlock's own modules (src/) as they load.
//
// The counters are placed by Jazzer.js's coverage visitor (the branch points its libFuzzer
// instrumentation uses: functions, if/else, switch cases, loops, catch, && || ??, ?:), so the
// fuzzer sees the same edges Jazzer.js would. Each counter is `__airlockFuzzCounters[id]++`; ids
// are dense and unique across modules because one hooks thread instruments every module.
import { createRequire, type LoadHook } from 'node:module';

interface BabelTypes {
  updateExpression(op: '++', argument: unknown): unknown;
  memberExpression(object: unknown, property: unknown, computed: boolean): unknown;
  identifier(name: string): unknown;
  numericLiteral(value: number): unknown;
}
interface Babel {
  transformSync(code: string, options: Record<string, unknown>): { code?: string | null } | null;
}

const require = createRequire(import.meta.url);
// Babel and the visitor as @jazzer.js/instrumentor ships them (it has no exports map).
const instrumentorRequire = createRequire(require.resolve('@jazzer.js/instrumentor'));
const babel = instrumentorRequire('@babel/core') as Babel;
const { makeCoverageVisitor } = instrumentorRequire('./plugins/coverageVisitor.js') as {
  makeCoverageVisitor: (counter: () => unknown) => object;
};

let nextEdgeId = 0;

/** Only our code is instrumented: not node_modules, not the tests and fuzz targets themselves. */
function isInstrumented(url: string): boolean {
  return url.startsWith('file://') && url.includes('/src/') && !url.includes('/node_modules/');
}

function coveragePlugin({ types: t }: { types: BabelTypes }): { visitor: object } {
  const counter = () =>
    t.updateExpression(
      '++',
      t.memberExpression(
        t.identifier('__airlockFuzzCounters'),
        t.numericLiteral(nextEdgeId++),
        true,
      ),
    );
  return { visitor: makeCoverageVisitor(counter) };
}

export const load: LoadHook = async (url, context, nextLoad) => {
  const result = await nextLoad(url, context);
  if (!isInstrumented(url) || result.format !== 'module' || result.source == null) return result;
  const source =
    typeof result.source === 'string'
      ? result.source
      : Buffer.from(result.source as Uint8Array).toString('utf8');
  const out = babel.transformSync(source, {
    filename: new URL(url).pathname,
    sourceType: 'module',
    babelrc: false,
    configFile: false,
    plugins: [coveragePlugin],
  });
  const header =
    'const __airlockFuzzCounters = globalThis.__airlockFuzz.counters;' +
    `globalThis.__airlockFuzz.edges = Math.max(globalThis.__airlockFuzz.edges, ${nextEdgeId});`;
  return { ...result, source: `${header}\n${out?.code ?? source}` };
};
