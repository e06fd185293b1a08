import { Writable } from 'node:stream';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { formatDuration, Progress } from '../src/progress.js';

/** A stream that keeps what is written; a terminal of 100 columns when `tty`. */
function sink(tty: boolean): NodeJS.WriteStream & { text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  }) as unknown as NodeJS.WriteStream & { text: () => string };
  // What ora calls on a TTY stream (tty.WriteStream's cursor methods), as escape codes.
  const cursorTo = (x: number): boolean => stream.write(`\u001b[${x + 1}G`);
  const clearLine = (): boolean => stream.write('\u001b[2K');
  const moveCursor = (_dx: number, dy: number): boolean => stream.write(dy < 0 ? `\u001b[${-dy}A` : '');
  Object.assign(stream, { isTTY: tty, columns: 100, cursorTo, clearLine, moveCursor, text: () => chunks.join('') });
  return stream;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('the progress display of a long run', () => {
  test('off a terminal (CI, a pipe): one plain line per run, no escape codes', () => {
    const out = sink(false);
    const p = new Progress(out);
    expect(p.live).toBe(false);
    p.expect(3);
    p.tick('  default run 1/1 hakmem 30.0 M ops/s');
    p.note('  default run 1/1 thing: FAILED: boom');
    p.stop();
    expect(out.text()).toBe('  default run 1/1 hakmem 30.0 M ops/s\n  default run 1/1 thing: FAILED: boom\n');
  });

  test('on a terminal: one status line with the runs done, the last figure and the time left; tables printed around it', () => {
    const out = sink(true);
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const p = new Progress(out, true);
    expect(p.live).toBe(true);
    p.expect(4);
    p.tick('  default run 1/2 hakmem 30.0 M ops/s');
    expect(p.status('x')).toMatch(/^\[1\/4 runs, \d+ s left\] x$/);
    p.print('| table |');
    p.skip(2); // a subject left out of a workload: two runs fewer
    p.tick('  default run 1/2 null 50.0 M ops/s');
    expect(p.status('')).toMatch(/^\[2\/2 runs, 0 s left\] $/);
    p.stop();
    const text = out.text();
    expect(text).toContain('[1/4 runs');
    expect(text).toContain('default run 1/2 hakmem 30.0 M ops/s');
    expect(text).toContain('[2/2 runs');
    expect(text).toMatch(/2 runs in \d+ s/); // the line left at the end
    expect(text).toContain('\u001b['); // drawn with escape codes
    expect(log).toHaveBeenCalledWith('| table |'); // the table on stdout, not in the status line
  });

  test('durations', () => {
    expect(formatDuration(42_400)).toBe('42 s');
    expect(formatDuration(185_000)).toBe('3 min 5 s');
    expect(formatDuration(3_720_000)).toBe('1 h 2 min');
    expect(formatDuration(-5)).toBe('0 s');
  });
});
