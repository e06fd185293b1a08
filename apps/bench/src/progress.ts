import ora, { type Ora } from 'ora';

/**
 * The progress display of a long `run`: on a terminal, one status line (ora's spinner)
 * with the runs done, the last run's figure and the time left; elsewhere (CI, a pipe)
 * one plain line per run on stderr, as before. Tables go to stdout through `print`,
 * which clears the status line first so the two never mix.
 *
 * Each run is a synchronous child process (spawnSync), so the event loop is blocked
 * while it runs and the spinner does not spin between runs: the line is redrawn on every
 * `tick`, which is what matters on a run of minutes.
 */
export class Progress {
  private readonly spinner: Ora;
  private done = 0;
  private total = 0;
  private readonly started = Date.now();

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr, enabled?: boolean) {
    // discardStdin: false — ora would otherwise put stdin in raw mode, and with the loop
    // blocked in spawnSync a Ctrl+C would wait for the current run to end.
    // ora's own test is "a TTY, not CI"; a pseudo-terminal of 0 columns (e.g. under
    // script(1) without a size) passes it, and ora then clears an unbounded number of lines.
    const terminal = stream.isTTY === true && (stream.columns ?? 0) > 0 && process.env.CI === undefined;
    this.spinner = ora({ stream, discardStdin: false, isEnabled: enabled ?? terminal });
  }

  /** True when the status line is drawn (a terminal, not CI). */
  get live(): boolean {
    return this.spinner.isEnabled;
  }

  /** Adds `runs` to the expected total (call before they start). */
  expect(runs: number): void {
    this.total += runs;
    if (this.live && !this.spinner.isSpinning) this.spinner.start(this.status(''));
  }

  /** Runs that were expected but will not happen (a subject left out of a workload). */
  skip(runs: number): void {
    this.total = Math.max(this.done, this.total - runs);
  }

  /** One run finished: `line` says what it measured. */
  tick(line: string): void {
    this.done++;
    if (this.live) {
      this.spinner.text = this.status(line.trim());
      this.spinner.render();
    } else {
      this.stream.write(`${line}\n`);
    }
  }

  /** A message that must stay on screen (a failure): printed above the status line. */
  note(line: string): void {
    if (this.live) this.spinner.clear();
    this.stream.write(`${line}\n`);
    if (this.live) this.spinner.render();
  }

  /** Prints `text` on stdout without tearing the status line. */
  print(text: string): void {
    if (this.live) this.spinner.clear();
    console.log(text);
    if (this.live && this.spinner.isSpinning) this.spinner.render();
  }

  /** Removes the status line, leaving a summary line when it was drawn. */
  stop(): void {
    if (this.live && this.spinner.isSpinning) this.spinner.stopAndPersist({ symbol: '✔', text: `${this.done} runs in ${formatDuration(Date.now() - this.started)}` });
  }

  /** `[12/140 runs, 3 min 5 s left] pool run 3/5 hakmem 18.8 M ops/s`. */
  status(last: string): string {
    const elapsed = Date.now() - this.started;
    const left = this.done === 0 ? '' : `, ${formatDuration((elapsed / this.done) * (this.total - this.done))} left`;
    return `[${this.done}/${this.total} runs${left}] ${last}`;
  }
}

/** `3 min 5 s`, `42 s`, `1 h 2 min`. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}
