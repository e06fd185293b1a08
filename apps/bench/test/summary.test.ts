import { describe, expect, test } from 'vitest';
import type { RunRecord } from '../src/measure.js';
import type { MtRunRecord } from '../src/mt/api.js';
import { bestPeer, formatSummary, summaryRows } from '../src/summary.js';

const run = (subject: string, workload: string, mops: number, extra: Partial<RunRecord> = {}): RunRecord => ({
  subject, workload, cycles: 10, seed: 42, run: 0, mallocs: 5, frees: 5, failed: 0, bytes: 80, finalSeed: 1, checksum: 2, mismatches: 0,
  elapsedMs: 1, ops: 10, opsPerSec: mops * 1e6, footprint: 1 << 20, verify: 'ok', ...extra,
});

describe('the summary table of an invocation', () => {
  test('medians per subject, the best JS peer (not seglist, not null), ratios, a row per thread count', () => {
    const runs = [
      run('hakmem', 'pool', 20), run('hakmem', 'pool', 10), run('hakmem', 'pool', 30),
      run('thing', 'pool', 1), run('seglist', 'pool', 40), run('null', 'pool', 50, { footprint: 0 }),
      run('hakmem', 'trace:x', 5), run('thing', 'trace:x', 1, { verify: 'FAILED' }),
    ];
    const mt = [
      { ...run('hakmem', 'larson', 8), threads: 2 }, { ...run('thing-locked', 'larson', 0.5), threads: 2 }, { ...run('cheap', 'larson', 2), threads: 2 },
    ] as unknown as MtRunRecord[];
    const rows = summaryRows(runs, mt);
    expect(rows.map((r) => r.label)).toEqual(['pool', 'trace:x', 'larson × 2']);
    expect(rows[0]!.medians.get('hakmem')).toBe(20e6);
    expect(bestPeer(rows[0]!)).toEqual({ subject: 'thing', median: 1e6 }); // seglist is faster but not a peer
    expect(bestPeer(rows[2]!)).toEqual({ subject: 'cheap', median: 2e6 });
    const text = formatSummary(rows);
    const lines = text.split('\n');
    // Columns: hakmem, the peers, seglist, null.
    expect(lines[0]).toMatch(/^\| workload +\| hakmem \| +thing \| +thing-locked \| +cheap \| +seglist \| +null \| hakmem ÷ best peer \| hakmem ÷ null \|/);
    expect(lines[2]).toMatch(/^\| pool +\| +20\.0 \| +1\.00 \| +– \| +– \| +40\.0 \| +50\.0 \| +20\.0× \(thing\) \| +0\.400× \|/);
    expect(lines[3]).toContain('(M events/s)');
    expect(lines[3]).toContain('1.00 (verify FAILED)');
    expect(lines[4]).toMatch(/^\| larson × 2 +\| +8\.00 \| +– \| +0\.500 \| +2\.00 \| +– \| +– \| +4\.00× \(cheap\) \| +– \|/);
  });
});
