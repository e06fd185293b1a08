import { ErrorCode, PAGE_SIZE, type HeapViews, type MemoryBackend, type SharedBackendHandle, type WasmMemoryLike } from '@hakmem/contracts';
import { noThrow } from './pool-refill.js';
import { hex } from './slab-probes.js';
import { check, expectHakmemError, fail, type ConformanceCase } from './types.js';

/**
 * Builds the backend under test: a fresh memory of about `initialBytes`, growing to at most
 * `maxBytes` (both whole pages). `createNativeBackend` and `createWasmBackend` of
 * `@hakmem/memory-backend` fit as they are; a backend over an existing memory is built by
 * a closure, e.g. `(o) => createWasmBackend({ memory: new WebAssembly.Memory({ initial: o.initialBytes / 65536, maximum: o.maxBytes / 65536 }), maxBytes: o.maxBytes })`.
 */
export type MemoryBackendFactory = (options: { readonly initialBytes: number; readonly maxBytes: number }) => MemoryBackend;

/** Optional extras of {@link memoryBackendConformance}. */
export interface MemoryBackendEnv {
  /**
   * Builds a second backend over the memory of a `share()` handle, as another worker would
   * (e.g. `attachBackend` of `@hakmem/memory-backend`). Given (for a shared backend only),
   * the suite has one more case: each of the two sees the other's bytes and growth.
   */
  readonly attach?: (handle: SharedBackendHandle) => MemoryBackend;
}

const C = 'memory-backend';
const P = PAGE_SIZE;
/** What the suite asks of the factory: 2 pages, growing to 16. */
const INITIAL = 2 * P;
const MAX = 16 * P;
const FIELDS = ['u8', 'i8', 'u16', 'i16', 'u32', 'i32', 'f32', 'f64'] as const;
const TYPES: ReadonlyArray<{ readonly name: string; new (...args: never[]): ArrayBufferView }> = [
  Uint8Array, Int8Array, Uint16Array, Int16Array, Uint32Array, Int32Array, Float32Array, Float64Array,
];

type Field = (typeof FIELDS)[number];

/**
 * Conformance suite of the `MemoryBackend` contract (packages/contracts/src/backend.ts):
 * `kind`, `shared`, `maxBytes` and `capabilities`; `byteLength()` whole pages, never above
 * `maxBytes`, never decreasing but by `shrink`; `shrink` (false and nothing changed
 * unless `canShrink`; else the new length, views re-covered, zero on regrowth); `grow` returning the previous size in pages, growing by
 * exactly the pages asked, refreshing this thread's views, new memory reading zero, old
 * bytes kept, -1 with the memory unchanged past the maximum, never throwing; `views` — one
 * object whose eight fields view `buffer()` from offset 0 and cover the memory, `version`
 * bumped exactly when they are replaced; `refresh()`; `share()` (a handle `postMessage`
 * can carry over the same bytes, or `E_INVALID_OPTION` on a private backend); and, with
 * `env.attach`, a second backend on the same memory seeing the first's bytes and growth
 * (by `refresh()`, or at once when `viewsTrackGrowth`).
 *
 * `make` is called once per case (sometimes more) with `{ initialBytes: 131072, maxBytes: 1048576 }`.
 */
export function memoryBackendConformance(make: MemoryBackendFactory, env: MemoryBackendEnv = {}): ConformanceCase[] {
  const fresh = (): MemoryBackend => {
    const b = make({ initialBytes: INITIAL, maxBytes: MAX });
    check(b.maxBytes - b.byteLength() >= 6 * P, `${C} suite: the backend must have room to grow 6 pages (byteLength ${b.byteLength()}, maxBytes ${b.maxBytes})`);
    return b;
  };
  const fieldsOf = (v: HeapViews): ArrayBufferView[] => FIELDS.map((f) => v[f]);

  /** The views' facts in the thread that grew or refreshed last: eight typed arrays over buffer() from 0, covering byteLength(). */
  const checkViews = (b: MemoryBackend, when: string): void => {
    const v = b.views;
    const bytes = b.byteLength();
    const buf = b.buffer();
    FIELDS.forEach((f, k) => {
      const view = v[f] as ArrayBufferView & { length: number; BYTES_PER_ELEMENT: number };
      const type = TYPES[k]!;
      check(view instanceof type, `${C} views.${f} is not a ${type.name} (${when})`);
      check(view.byteOffset === 0, `${C} views.${f} starts at byte ${view.byteOffset}, not 0 (${when})`);
      check(view.buffer === buf, `${C} views.${f} does not view buffer() (${when})`);
      check(view.length * view.BYTES_PER_ELEMENT >= bytes, `${C} views.${f} covers ${view.length * view.BYTES_PER_ELEMENT} bytes, byteLength() is ${bytes}: "views at least as long as the new size" (${when})`);
    });
    check(Number.isInteger(v.version) && v.version >= 0, `${C} views.version is ${v.version}, not a non-negative integer (${when})`);
  };

  /** Follows the views' fields: `version` goes up exactly when they are replaced. */
  class Tracker {
    private fields: ArrayBufferView[];
    private version: number;
    constructor(private readonly b: MemoryBackend, private readonly object = b.views) {
      this.fields = fieldsOf(b.views);
      this.version = b.views.version;
    }
    /** True when the fields were replaced since the last look. */
    look(when: string): boolean {
      const v = this.b.views;
      check(v === this.object, `${C} views: "the object's identity never changes", but it did (${when})`);
      const now = fieldsOf(v);
      const replaced = now.map((x, k) => x !== this.fields[k]);
      const any = replaced.some(Boolean);
      if (any) {
        check(v.version > this.version, `${C} views.version stayed ${v.version} although ${FIELDS.filter((_, k) => replaced[k]).join(', ')} were replaced ("incremented each time the fields are replaced") (${when})`);
      } else {
        check(v.version === this.version, `${C} views.version went ${this.version} → ${v.version} with no field replaced (${when})`);
      }
      this.fields = now;
      this.version = v.version;
      return any;
    }
  }

  const growOk = (b: MemoryBackend, n: number, when: string): number => {
    const pages = b.byteLength() / P;
    const old = noThrow(`${C} grow(${n})`, () => b.grow(n));
    check(old === pages, `${C} grow(${n}) returned ${old}, want the previous size in pages, ${pages} (${when})`);
    check(b.byteLength() === (pages + n) * P, `${C} grow(${n}): byteLength() went ${pages * P} → ${b.byteLength()}, want ${(pages + n) * P} (${when})`);
    return old;
  };
  const firstNonZero = (u8: Uint8Array, from: number, to: number): number => {
    for (let i = from; i < to; i++) if (u8[i] !== 0) return i;
    return -1;
  };

  const cases: ConformanceCase[] = [
    {
      name: `${C}: kind is 'wasm' or 'native'; shared says whether the memory is shared; maxBytes is a whole number of pages ≥ byteLength(); capabilities: pageSize 65536, shareable = shared; none of them changes with growth`,
      run() {
        const b = fresh();
        check(b.kind === 'wasm' || b.kind === 'native', `${C} kind is ${String(b.kind)}, want 'wasm' or 'native'`);
        check(typeof b.shared === 'boolean', `${C} shared is ${String(b.shared)}, not a boolean`);
        const buf = b.buffer();
        check(b.shared === (buf instanceof SharedArrayBuffer), `${C} shared is ${b.shared}, but buffer() is ${buf instanceof SharedArrayBuffer ? '' : 'not '}a SharedArrayBuffer ("built on shared memory")`);
        check(Number.isInteger(b.maxBytes) && b.maxBytes > 0 && b.maxBytes % P === 0, `${C} maxBytes ${b.maxBytes} is not a positive multiple of the page size`);
        check(b.maxBytes >= b.byteLength(), `${C} maxBytes ${b.maxBytes} < byteLength() ${b.byteLength()}`);
        const caps = b.capabilities;
        check(caps.pageSize === P, `${C} capabilities.pageSize is ${caps.pageSize}, "always 65536"`);
        for (const k of ['canShrink', 'canDecommit', 'viewsTrackGrowth', 'shareable'] as const) check(typeof caps[k] === 'boolean', `${C} capabilities.${k} is ${String(caps[k])}, not a boolean`);
        check(caps.shareable === b.shared, `${C} capabilities.shareable is ${caps.shareable}, shared is ${b.shared} ("true when the memory can be handed to other workers (it is shared)")`);
        const before = JSON.stringify([b.kind, b.shared, b.maxBytes, b.capabilities]);
        growOk(b, 1, 'one page');
        b.refresh();
        check(JSON.stringify([b.kind, b.shared, b.maxBytes, b.capabilities]) === before, `${C}: kind, shared, maxBytes or capabilities changed with growth: ${before} → ${JSON.stringify([b.kind, b.shared, b.maxBytes, b.capabilities])}`);
      },
    },
    {
      name: `${C}: byteLength() is a whole number of pages, never above maxBytes, never decreasing, and never throws — page by page up to the maximum and past it`,
      run() {
        const b = fresh();
        let last = noThrow(`${C} byteLength`, () => b.byteLength());
        for (let i = 0; i < 64; i++) {
          const r = noThrow(`${C} grow(1)`, () => b.grow(1));
          const len = noThrow(`${C} byteLength`, () => b.byteLength());
          check(len % P === 0 && len <= b.maxBytes && len >= last, `${C} byteLength() ${len} after grow(1) #${i} (was ${last}, maxBytes ${b.maxBytes}): not whole pages, above the maximum, or smaller`);
          check(r === -1 ? len === last : len === last + P, `${C} grow(1) #${i} returned ${r}; byteLength() ${last} → ${len}`);
          if (r === -1) break;
          last = len;
        }
        check(last === b.maxBytes, `${C}: growing one page at a time stopped at ${last}, below maxBytes ${b.maxBytes}`);
      },
    },
    {
      name: `${C}: grow(n) returns the previous size in pages, adds exactly n pages and refreshes this thread's views to cover the new size (the views object keeps its identity)`,
      run() {
        const b = fresh();
        const v = b.views;
        checkViews(b, 'fresh');
        for (const n of [1, 2, 3]) {
          growOk(b, n, `grow(${n})`);
          check(b.views === v, `${C} grow(${n}): the views object was replaced ("identity stable")`);
          checkViews(b, `after grow(${n}), without refresh()`);
        }
      },
    },
    {
      name: `${C}: memory obtained by growth reads as zero (through the views and buffer()); bytes written before a grow survive it`,
      run() {
        const b = fresh();
        const len = b.byteLength();
        b.views.u8.fill(0x5c, 0, len);
        b.views.f64[len / 8 - 1] = 1.5;
        growOk(b, 3, 'three pages');
        const u8 = b.views.u8;
        const at = firstNonZero(u8, len, len + 3 * P);
        check(at < 0, `${C} grow: byte ${hex(at)} of the new memory [${hex(len)}, +3p) reads ${u8[at]}, not zero`);
        check(new Int32Array(b.buffer(), len, (3 * P) / 4).every((x) => x === 0), `${C} grow: the new memory does not read as zero through buffer()`);
        check(b.views.f64[len / 8 - 1] === 1.5, `${C} grow: the last word before the growth changed`);
        for (let i = 0; i < len - 8; i += 4093) check(u8[i] === 0x5c, `${C} grow: byte ${hex(i)} written before the grow reads ${u8[i]}, not 0x5c`);
        // A second growth after writing into the first.
        b.views.u8.fill(0x33, len, len + 3 * P);
        growOk(b, 2, 'two more pages');
        check(firstNonZero(b.views.u8, len + 3 * P, len + 5 * P) < 0, `${C} grow: the second growth does not read as zero`);
        check(b.views.u8[len + 3 * P - 1] === 0x33, `${C} grow: bytes of the first growth changed in the second`);
      },
    },
    {
      name: `${C}: shrink(n) — with canShrink false it returns false and changes nothing; with canShrink true (never shared) it sets the length to n pages, re-covers the views (same object, version bumped), keeps the bytes below n pages, and memory grown again reads as zero; it refuses (false, nothing changed) an n outside [1, byteLength() / 65536] and never throws`,
      run() {
        const b = fresh();
        const track = new Tracker(b);
        growOk(b, 4, 'before the shrink');
        track.look('after the grow');
        const len = b.byteLength();
        b.views.u8.fill(0x5c, 0, len);
        const refused = (n: number, when: string): void => {
          const r = noThrow(`${C} shrink(${n})`, () => b.shrink(n));
          check(r === false, `${C} shrink(${n}) returned ${String(r)}, want false (${when})`);
          check(b.byteLength() === len, `${C} shrink(${n}) → false changed byteLength() ${len} → ${b.byteLength()} (${when})`);
          check(!track.look(`after the refused shrink(${n})`), `${C} shrink(${n}) → false replaced the views (${when})`);
          check(b.views.u8[len - 1] === 0x5c, `${C} shrink(${n}) → false changed the content (${when})`);
        };
        if (!b.capabilities.canShrink) {
          refused(1, 'canShrink is false');
          refused(len / P - 2, 'canShrink is false');
          return;
        }
        check(!b.shared, `${C}: capabilities.canShrink is true on a shared backend (a shrinkable backend is never shared)`);
        for (const n of [0, -1, 1.5, Number.NaN, len / P + 1, 2 ** 32]) refused(n, 'outside [1, byteLength() / 65536]');
        const to = len / P - 3;
        const r = noThrow(`${C} shrink(${to})`, () => b.shrink(to));
        check(r === true, `${C} shrink(${to}) on a backend with canShrink returned ${String(r)}, want true`);
        check(b.byteLength() === to * P, `${C} shrink(${to}): byteLength() ${len} → ${b.byteLength()}, want ${to * P}`);
        check(track.look('after the shrink'), `${C} shrink(${to}) did not re-cover the views`);
        checkViews(b, 'after the shrink');
        check(b.views.u8.length === to * P, `${C} shrink(${to}): views.u8 covers ${b.views.u8.length} bytes, want exactly ${to * P}`);
        check(b.views.u8[to * P - 1] === 0x5c && b.views.u8[0] === 0x5c, `${C} shrink(${to}) changed the bytes below the new length`);
        check(noThrow(`${C} shrink(${to}) again`, () => b.shrink(to)) === true && b.byteLength() === to * P, `${C} shrink to the current length must return true and change nothing`);
        growOk(b, 3, 'after the shrink');
        const at = firstNonZero(b.views.u8, to * P, len);
        check(at < 0, `${C} shrink then grow: byte ${hex(at)} of the memory grown again reads ${b.views.u8[at]}, not zero`);
        checkViews(b, 'after the shrink and the grow');
      },
    },
    {
      name: `${C}: grow(0) returns the size in pages and changes neither the size nor the content`,
      run() {
        const b = fresh();
        const len = b.byteLength();
        b.views.u8[7] = 7;
        b.views.u8[len - 1] = 9;
        const old = noThrow(`${C} grow(0)`, () => b.grow(0));
        check(old === len / P, `${C} grow(0) returned ${old}, want the size in pages ${len / P}`);
        check(b.byteLength() === len, `${C} grow(0): byteLength() ${len} → ${b.byteLength()}`);
        checkViews(b, 'after grow(0)');
        check(b.views.u8[7] === 7 && b.views.u8[len - 1] === 9, `${C} grow(0) changed the content`);
      },
    },
    {
      name: `${C}: grow past maxBytes returns -1 and leaves the size, the views' cover and the content unchanged; growth to exactly maxBytes succeeds`,
      run() {
        const b = fresh();
        const len = b.byteLength();
        const room = (b.maxBytes - len) / P;
        b.views.u32[100] = 0xdead_beef;
        const refused = (n: number, when: string): void => {
          const size = b.byteLength();
          const r = noThrow(`${C} grow(${n}) past the maximum`, () => b.grow(n));
          check(r === -1, `${C} grow(${n}) with ${(b.maxBytes - size) / P} page(s) left below maxBytes returned ${r}, want -1 (${when})`);
          check(b.byteLength() === size, `${C} grow(${n}) → -1: "the memory is unchanged", but byteLength() ${size} → ${b.byteLength()} (${when})`);
          check(b.views.u32[100] === 0xdead_beef, `${C} grow(${n}) → -1 changed the content (${when})`);
          checkViews(b, `after the refused grow(${n}) (${when})`);
        };
        refused(room + 1, 'one page too many');
        refused(room + 1000, 'far too many');
        growOk(b, room, 'up to exactly maxBytes');
        check(b.byteLength() === b.maxBytes, `${C}: growth stopped at ${b.byteLength()} below maxBytes ${b.maxBytes}`);
        checkViews(b, 'at the maximum');
        refused(1, 'at the maximum');
        check(b.views.u32[100] === 0xdead_beef, `${C}: growth to the maximum changed the content`);
      },
    },
    {
      name: `${C}: grow never throws — for a delta outside its precondition (-1, 1.5, NaN, 2^32, 2^32 + 1) the memory stays whole pages, no smaller, within maxBytes, covered by the views`,
      run() {
        const b = fresh();
        b.views.u8[3] = 3;
        for (const n of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 32, 2 ** 32 + 1, -(2 ** 31)]) {
          const before = b.byteLength();
          noThrow(`${C} grow(${n})`, () => b.grow(n));
          const len = b.byteLength();
          check(len % P === 0 && len >= before && len <= b.maxBytes, `${C} grow(${n}): byteLength() ${before} → ${len} (whole pages, never decreasing, at most maxBytes ${b.maxBytes})`);
          noThrow(`${C} refresh`, () => b.refresh());
          checkViews(b, `after grow(${n})`);
          check(b.views.u8[3] === 3, `${C} grow(${n}) changed the content`);
        }
      },
    },
    {
      name: `${C}: views — one object for the life of the backend; its eight fields are typed arrays over buffer() from offset 0 that alias the same bytes and cover byteLength(); version goes up exactly when the fields are replaced`,
      run() {
        const b = fresh();
        const t = new Tracker(b);
        checkViews(b, 'fresh');
        const v = b.views;
        v.i32[10] = 0x0403_0201;
        check([v.u8[40], v.u8[41], v.u8[42], v.u8[43]].join() === '1,2,3,4' && v.u16[20] === 0x0201 && v.i8[43] === 4 && v.u32[10] === 0x0403_0201,
          `${C} views: the fields do not alias the same bytes (i32[10] = 0x04030201 reads back as u8 ${[v.u8[40], v.u8[41], v.u8[42], v.u8[43]].join()})`);
        v.f64[6] = -2.5;
        check(v.f32[12] === new Float32Array(v.f64.buffer, 48, 2)[0] && new Float64Array(b.buffer(), 48, 1)[0] === -2.5, `${C} views: f64 / f32 / buffer() do not alias`);
        const steps: Array<[string, () => unknown]> = [
          ['grow(1)', () => b.grow(1)], ['refresh()', () => b.refresh()], ['grow(0)', () => b.grow(0)], ['refresh()', () => b.refresh()],
          ['grow(2)', () => b.grow(2)], ['byteLength()', () => b.byteLength()], ['buffer()', () => b.buffer()],
          [`grow past the maximum`, () => b.grow(b.maxBytes / P)],
        ];
        for (const [what, step] of steps) {
          noThrow(`${C} ${what}`, step);
          t.look(what);
          checkViews(b, `after ${what}`);
        }
        check(b.views.i32[10] === 0x0403_0201, `${C} views: a word written through i32 changed over growth`);
      },
    },
    {
      name: `${C}: refresh() never throws; with nothing changed it returns false and replaces nothing; true exactly when it replaced the fields`,
      run() {
        const b = fresh();
        const t = new Tracker(b);
        for (const [when, before] of [['fresh', () => 0], ['after grow(1)', () => b.grow(1)], ['after grow(2)', () => b.grow(2)]] as const) {
          before();
          t.look(when);
          for (let k = 0; k < 2; k++) {
            const r = noThrow(`${C} refresh`, () => b.refresh());
            const replaced = t.look(`refresh() #${k + 1} ${when}`);
            check(r === replaced, `${C} refresh() returned ${String(r)} but the fields were ${replaced ? '' : 'not '}replaced ("returns true when the views were replaced") (${when})`);
            check(!r, `${C} refresh() ${when} (this thread grew last, nothing changed since) returned true: "cheap when nothing changed", the views need no replacing`);
            checkViews(b, `refresh() ${when}`);
          }
        }
      },
    },
    {
      name: `${C}: share() — on a shared backend a handle postMessage can carry (structuredClone), of the backend's kind and maxBytes, over the same memory (a WebAssembly.Memory for wasm, a SharedArrayBuffer for native); on a private one it throws E_INVALID_OPTION`,
      run() {
        const b = fresh();
        if (!b.shared) {
          expectHakmemError(() => b.share(), ErrorCode.INVALID_OPTION, `${C} share() of a private backend`);
          return;
        }
        const h = noThrow(`${C} share`, () => b.share());
        check(h.kind === b.kind && h.maxBytes === b.maxBytes, `${C} share(): kind ${h.kind} / maxBytes ${h.maxBytes}, the backend's are ${b.kind} / ${b.maxBytes}`);
        const extra = Object.keys(h).filter((k) => !['kind', 'memory', 'maxBytes', 'length'].includes(k));
        check(extra.length === 0, `${C} share(): unexpected fields ${extra.join(', ')} ("plain data plus the shared memory object itself")`);
        if (b.kind === 'wasm') {
          check(h.memory instanceof WebAssembly.Memory && (h.memory.buffer as unknown) instanceof SharedArrayBuffer, `${C} share() of a wasm backend: memory is not a shared WebAssembly.Memory`);
        } else {
          check(h.memory instanceof SharedArrayBuffer, `${C} share() of a native backend: memory is not a SharedArrayBuffer`);
        }
        check(h.length === undefined || (h.length instanceof SharedArrayBuffer && h.length.byteLength >= 4), `${C} share(): length is neither absent nor a SharedArrayBuffer of at least 4 bytes`);
        const copy = noThrow(`${C} share(): structuredClone of the handle ("something postMessage can carry")`, () => structuredClone(h));
        const words = (m: WasmMemoryLike | SharedArrayBuffer): Int32Array => new Int32Array(m instanceof SharedArrayBuffer ? m : m.buffer);
        b.views.i32[33] = 0x0abc_def0;
        check(words(copy.memory)[33] === 0x0abc_def0, `${C} share(): the handle's memory (carried) does not hold the backend's bytes`);
        words(copy.memory)[34] = 77;
        check(b.views.i32[34] === 77, `${C} share(): a write through the carried handle's memory is not seen by the backend`);
      },
    },
  ];

  if (env.attach !== undefined) {
    const attach = env.attach;
    cases.push({
      name: `${C}: another thread — a backend attached to the share() handle sees the same bytes; after either grows, the other's refresh() (or nothing, when viewsTrackGrowth) makes its views cover the new size, the new bytes zero`,
      run() {
        const a = fresh();
        check(a.shared, `${C} suite: env.attach was given for a backend that is not shared`);
        const b = noThrow(`${C} attach`, () => attach(a.share()));
        check(b.kind === a.kind && b.shared && b.maxBytes === a.maxBytes, `${C} attach: kind ${b.kind} / shared ${b.shared} / maxBytes ${b.maxBytes}, the first's are ${a.kind} / true / ${a.maxBytes}`);
        check(b.byteLength() === a.byteLength(), `${C} attach: byteLength() ${b.byteLength()}, the first's ${a.byteLength()}`);
        a.views.i32[5] = 55;
        check(b.views.i32[5] === 55, `${C} attach: the attached backend does not see the first's bytes`);
        b.views.i32[6] = 66;
        check(a.views.i32[6] === 66, `${C} attach: the first backend does not see the attached one's bytes`);
        const follows = (grower: MemoryBackend, other: MemoryBackend, n: number, when: string): void => {
          const t = new Tracker(other);
          growOk(grower, n, when);
          const size = grower.byteLength();
          if (other.capabilities.viewsTrackGrowth) {
            check(other.views.u8.length >= size, `${C} viewsTrackGrowth: "views cover the memory after growth in any thread by themselves", but the other backend's views cover ${other.views.u8.length} bytes of ${size} (${when})`);
          }
          const r = noThrow(`${C} refresh`, () => other.refresh());
          const replaced = t.look(`refresh() after ${when}`);
          check(r === replaced, `${C} refresh() returned ${String(r)} but the fields were ${replaced ? '' : 'not '}replaced (${when})`);
          check(other.byteLength() >= size, `${C} after refresh(): byteLength() ${other.byteLength()} in the other thread, the memory is ${size} (${when})`);
          FIELDS.forEach((f: Field) => {
            const view = other.views[f];
            check(view.length * view.BYTES_PER_ELEMENT >= size, `${C} after refresh(): the other thread's views.${f} covers ${view.length * view.BYTES_PER_ELEMENT} bytes, the memory is ${size} (${when})`);
          });
          const at = firstNonZero(other.views.u8, size - n * P, size);
          check(at < 0, `${C}: the new memory reads ${other.views.u8[at]} at ${hex(at)} in the other thread, not zero (${when})`);
          other.views.u8[size - 1] = 0x42;
          check(grower.views.u8[size - 1] === 0x42, `${C}: a write to the new memory in the other thread is not seen by the one that grew it (${when})`);
          check(noThrow(`${C} refresh`, () => other.refresh()) === false, `${C} refresh() with nothing changed since the last one returned true (${when})`);
        };
        follows(a, b, 2, 'the first backend grew 2 pages');
        follows(b, a, 3, 'the attached backend grew 3 pages');
        check(a.views.i32[5] === 55 && b.views.i32[6] === 66, `${C}: bytes written before the growth changed`);
        if (a.byteLength() > a.maxBytes || b.byteLength() > b.maxBytes) fail(`${C}: byteLength() above maxBytes`);
      },
    });
  }
  return cases;
}
