import { ErrorCode, Route, type TinyRoute, type TinyRouteOptions } from '@hakmem/contracts';
import { check, expectHakmemError, type ConformanceCase } from './types.js';

/** Builds the tiny route under test (a box's factory, e.g. `createTinyRoute`). */
export type TinyRouteFactory = (options: TinyRouteOptions) => TinyRoute;

const C = 'tiny-route';

/** Valid custom tables the suite builds routes from (besides the default one). */
const TABLES: ReadonlyArray<readonly number[]> = [
  [8],
  [16],
  [8, 16, 32, 64, 128, 256, 512, 1024],
  [16, 48, 80, 4096],
  [8, 16, 32, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512, 640, 768, 896, 1024, 1280, 1536, 1792, 2048, 4096, 8192],
];

function describeRoute(r: TinyRoute): string {
  return `[${Array.from(r.classSizes).join(', ')}] poolMax ${r.poolMax} l25Max ${r.l25Max}`;
}

/** The class-table invariants of the contract, on one route. */
function checkTable(r: TinyRoute): void {
  const what = describeRoute(r);
  check(r.numClasses > 0 && r.numClasses === r.classSizes.length, `${C} numClasses ${r.numClasses} != classSizes.length ${r.classSizes.length} (${what})`);
  let prev = 0;
  for (let c = 0; c < r.numClasses; c++) {
    const s = r.classSizes[c]!;
    check(s > prev, `${C} invariant "classes are ascending": class ${c} is ${s} after ${prev} (${what})`);
    check(s % 8 === 0, `${C} invariant "every class size is a multiple of 8": class ${c} is ${s} (${what})`);
    check(s < 16 || s % 16 === 0, `${C} invariant "a multiple of 16 when >= 16": class ${c} is ${s} (${what})`);
    check(r.classSize(c) === s, `${C} classSize(${c}) is ${r.classSize(c)}, classSizes[${c}] is ${s} (${what})`);
    prev = s;
  }
  check(r.tinyMax === r.classSizes[r.numClasses - 1], `${C} tinyMax ${r.tinyMax} is not the last class's size ${r.classSizes[r.numClasses - 1]} (${what})`);
  check(r.tinyMax < r.poolMax && r.poolMax < r.l25Max, `${C} invariant "tinyMax < poolMax < l25Max" broken: ${r.tinyMax}, ${r.poolMax}, ${r.l25Max}`);
}

/** `classOf(s)` is the smallest class holding `s`, for every `0 <= s <= tinyMax`. */
function checkClassOf(r: TinyRoute): void {
  const what = describeRoute(r);
  check(r.classOf(0) === 0, `${C} classOf: "0 maps to the smallest class", got class ${r.classOf(0)} (${what})`);
  for (let s = 1; s <= r.tinyMax; s++) {
    const c = r.classOf(s);
    check(Number.isInteger(c) && c >= 0 && c < r.numClasses, `${C} classOf(${s}) = ${c} is not a class (${what})`);
    const size = r.classSize(c);
    if (size < s) check(false, `${C} invariant "classSize(classOf(s)) >= s": classOf(${s}) = ${c} holds only ${size} B (${what})`);
    if (c > 0 && r.classSize(c - 1) >= s) {
      check(false, `${C} classOf: post "the smallest class whose block holds size": classOf(${s}) = ${c} (${size} B) but class ${c - 1} (${r.classSize(c - 1)} B) holds it (${what})`);
    }
  }
}

/** The route thresholds, at every boundary and on samples between. */
function checkRoutes(r: TinyRoute): void {
  const expect = (s: number): Route => (s <= r.tinyMax ? Route.TINY : s <= r.poolMax ? Route.POOL : s <= r.l25Max ? Route.L25 : Route.BIG);
  const sizes = [0, 1, 8, r.tinyMax - 1, r.tinyMax, r.tinyMax + 1, (r.tinyMax + r.poolMax) >>> 1, r.poolMax - 1, r.poolMax, r.poolMax + 1,
    r.l25Max - 1, r.l25Max, r.l25Max + 1, r.l25Max * 2, 0x7fff_0000];
  for (let s = 0; s <= r.tinyMax + 64; s += 8) sizes.push(s);
  for (const s of sizes) {
    if (s < 0) continue;
    const got = r.route(s);
    check(got === expect(s), `${C} route(${s}): expected ${expect(s)} (TINY <= tinyMax ${r.tinyMax} < POOL <= poolMax ${r.poolMax} < L25 <= l25Max ${r.l25Max} < BIG), got ${got}`);
  }
}

/**
 * Conformance suite of the `TinyRoute` contract (`@hakmem/contracts`): the class-table
 * invariants (ascending, multiples of 8 and of 16 from 16 up, `tinyMax` the last class,
 * `tinyMax < poolMax < l25Max`), `classOf` giving the smallest class that holds a size
 * for every tiny size, `route` thresholds, the options (`classSizes`, `poolMax`,
 * `l25Max`, default `l25Max` of 1 MiB), stats, and `checkInvariants`.
 *
 * `factory` is called with `{}` (the default table) and with several valid custom tables.
 */
export function tinyRouteConformance(factory: TinyRouteFactory): ConformanceCase[] {
  const routes = (): TinyRoute[] => [factory({}), ...TABLES.map((classSizes) => factory({ classSizes }))];

  return [
    {
      name: `${C}: name is '${C}'; stats() mirrors classes/tinyMax/poolMax/l25Max and is a fresh snapshot`,
      run() {
        for (const r of routes()) {
          check(r.name === C, `${C} Box.name: expected '${C}', got '${r.name}'`);
          const s = r.stats();
          check(s.classes === r.numClasses && s.tinyMax === r.tinyMax && s.poolMax === r.poolMax && s.l25Max === r.l25Max,
            `${C} stats: ${JSON.stringify(s)} does not match the route's properties (${describeRoute(r)})`);
          check(r.stats() !== s, `${C} Box.stats: must return a fresh object`);
        }
      },
    },
    {
      name: `${C}: class table invariants: ascending, multiples of 8 (16 from 16 up), tinyMax = last class, tinyMax < poolMax < l25Max`,
      run() {
        for (const r of routes()) checkTable(r);
      },
    },
    {
      name: `${C}: classOf(s) is the smallest class whose block holds s, for every 0 <= s <= tinyMax`,
      run() {
        for (const r of routes()) checkClassOf(r);
      },
    },
    {
      name: `${C}: route(s) is TINY up to tinyMax, POOL up to poolMax, L25 up to l25Max, BIG above`,
      run() {
        for (const r of routes()) checkRoutes(r);
        for (const [poolMax, l25Max] of [[4096, 1 << 18], [3000, 3001], [65535, 1 << 20]] as const) {
          const r = factory({ classSizes: [8, 16, 32, 2048], poolMax, l25Max });
          checkRoutes(r);
        }
      },
    },
    {
      name: `${C}: options classSizes, poolMax and l25Max are honoured; l25Max defaults to 1 MiB`,
      run() {
        for (const classSizes of TABLES) {
          const r = factory({ classSizes });
          check(Array.from(r.classSizes).join() === classSizes.join(), `${C} options.classSizes [${classSizes}]: the route has [${Array.from(r.classSizes)}]`);
          check(r.numClasses === classSizes.length && r.tinyMax === classSizes[classSizes.length - 1], `${C} options.classSizes [${classSizes}]: numClasses ${r.numClasses}, tinyMax ${r.tinyMax}`);
        }
        const r = factory({ classSizes: [8, 16, 32, 2048], poolMax: 4096, l25Max: 1 << 18 });
        check(r.poolMax === 4096 && r.l25Max === 1 << 18, `${C} options poolMax 4096 / l25Max 262144: got ${r.poolMax} / ${r.l25Max}`);
        const d = factory({});
        check(d.l25Max === 1 << 20, `${C} options.l25Max: "Default 1 MiB", got ${d.l25Max}`);
        check(factory({ poolMax: 40000 }).poolMax === 40000, `${C} options.poolMax 40000 not honoured`);
      },
    },
    {
      name: `${C}: checkInvariants passes on valid tables and changes nothing`,
      run() {
        for (const r of routes()) {
          const before = Array.from(r.classSizes).join();
          const classOfBefore = Array.from({ length: r.tinyMax + 1 }, (_, s) => r.classOf(s)).join();
          r.checkInvariants();
          check(Array.from(r.classSizes).join() === before, `${C} checkInvariants: "never changes state": the class table changed`);
          check(Array.from({ length: r.tinyMax + 1 }, (_, s) => r.classOf(s)).join() === classOfBefore, `${C} checkInvariants: classOf changed`);
        }
      },
    },
    {
      name: `${C}: checkInvariants throws E_CORRUPTION once a class is too small for the sizes that map to it`,
      run() {
        const r = factory({ classSizes: [8, 16, 32, 48, 64, 128] });
        r.checkInvariants();
        const view = r.classSizes;
        const c = 4; // 64 B: sizes 49..64 map to it
        const original = view[c]!;
        view[c] = 48 - 16; // below the sizes it serves, and below the class before it
        try {
          if (r.classSize(c) !== original) {
            // The route reads the table it exposes: "classes are ascending" and
            // "classSize(classOf(s)) >= s" no longer hold, and checkInvariants must say so.
            expectHakmemError(() => r.checkInvariants(), ErrorCode.CORRUPTION,
              `${C} checkInvariants: class ${c} shrunk from ${original} to ${r.classSize(c)} B (below class ${c - 1}), a broken invariant`);
          } else {
            // classSizes was a copy: writing to it broke nothing, so nothing may be reported.
            r.checkInvariants();
          }
        } finally {
          view[c] = original;
        }
        r.checkInvariants();
      },
    },
  ];
}
