import { bytes } from './model.js';

/** A point of the timeline: one per snapshot. */
export interface TimelinePoint {
  readonly event: number;
  readonly footprint: number;
  readonly live: number;
}

export const FOOTPRINT_COLOUR = '#58a6ff';
export const LIVE_COLOUR = '#f0883e';

/**
 * The timeline chart: footprint and live bytes of every snapshot (x: the snapshot's
 * index, so that each snapshot gets the same width and the slider lines up), a cursor
 * at the one shown. Clicking or dragging on it picks a snapshot (`onPick`).
 */
export class TimelineChart {
  private points: readonly TimelinePoint[] = [];
  private current = 0;
  private readonly ctx: CanvasRenderingContext2D;
  private readonly pad = { left: 64, right: 12, top: 10, bottom: 20 };

  constructor(readonly canvas: HTMLCanvasElement, onPick: (index: number) => void) {
    this.ctx = canvas.getContext('2d')!;
    let dragging = false;
    const pick = (e: PointerEvent): void => {
      const i = this.indexAt(e.offsetX);
      if (i >= 0) onPick(i);
    };
    canvas.addEventListener('pointerdown', (e) => {
      dragging = true;
      canvas.setPointerCapture(e.pointerId);
      pick(e);
    });
    canvas.addEventListener('pointermove', (e) => {
      if (dragging) pick(e);
    });
    canvas.addEventListener('pointerup', () => {
      dragging = false;
    });
  }

  setPoints(points: readonly TimelinePoint[]): void {
    this.points = points;
    this.draw();
  }

  setCurrent(i: number): void {
    this.current = i;
    this.draw();
  }

  /** Sizes the backing store to the canvas's CSS size (× devicePixelRatio); returns the CSS size. */
  private fit(): { W: number; H: number } {
    const W = Math.max(100, this.canvas.clientWidth);
    const H = Math.max(40, this.canvas.clientHeight);
    const dpr = window.devicePixelRatio || 1;
    if (this.canvas.width !== Math.round(W * dpr) || this.canvas.height !== Math.round(H * dpr)) {
      this.canvas.width = Math.round(W * dpr);
      this.canvas.height = Math.round(H * dpr);
    }
    this.ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    return { W, H };
  }

  private x(i: number): number {
    const w = Math.max(100, this.canvas.clientWidth) - this.pad.left - this.pad.right;
    const n = this.points.length;
    return this.pad.left + (n <= 1 ? w / 2 : (i / (n - 1)) * w);
  }

  private indexAt(x: number): number {
    const n = this.points.length;
    if (n === 0) return -1;
    const w = Math.max(100, this.canvas.clientWidth) - this.pad.left - this.pad.right;
    const t = (x - this.pad.left) / Math.max(1, w);
    return Math.max(0, Math.min(n - 1, Math.round(t * (n - 1))));
  }

  draw(): void {
    const c = this.ctx;
    const { W, H } = this.fit();
    c.clearRect(0, 0, W, H);
    const pts = this.points;
    if (pts.length === 0) return;
    const top = Math.max(1, ...pts.map((p) => Math.max(p.footprint, p.live)));
    const y = (v: number): number => this.pad.top + (1 - v / top) * (H - this.pad.top - this.pad.bottom);
    // Axes and labels.
    c.fillStyle = '#8b949e';
    c.font = '11px system-ui, sans-serif';
    c.textBaseline = 'middle';
    c.textAlign = 'right';
    c.fillText(bytes(top), this.pad.left - 6, y(top));
    c.fillText('0', this.pad.left - 6, y(0));
    c.strokeStyle = '#30363d';
    c.beginPath();
    c.moveTo(this.pad.left, y(0) + 0.5);
    c.lineTo(W - this.pad.right, y(0) + 0.5);
    c.moveTo(this.pad.left, y(top) + 0.5);
    c.lineTo(W - this.pad.right, y(top) + 0.5);
    c.stroke();
    c.textBaseline = 'top';
    c.textAlign = 'left';
    c.fillText(`event ${pts[0]!.event}`, this.pad.left, H - this.pad.bottom + 5);
    c.textAlign = 'right';
    c.fillText(`event ${pts[pts.length - 1]!.event}`, W - this.pad.right, H - this.pad.bottom + 5);
    // Footprint (filled) and live bytes.
    c.beginPath();
    c.moveTo(this.x(0), y(0));
    for (let i = 0; i < pts.length; i++) c.lineTo(this.x(i), y(pts[i]!.footprint));
    c.lineTo(this.x(pts.length - 1), y(0));
    c.closePath();
    c.fillStyle = 'rgba(88, 166, 255, 0.15)';
    c.fill();
    for (const [key, colour] of [['footprint', FOOTPRINT_COLOUR], ['live', LIVE_COLOUR]] as const) {
      c.beginPath();
      for (let i = 0; i < pts.length; i++) {
        const yy = y(pts[i]![key]);
        if (i === 0) c.moveTo(this.x(i), yy);
        else c.lineTo(this.x(i), yy);
      }
      c.strokeStyle = colour;
      c.lineWidth = 1.5;
      c.stroke();
      if (pts.length === 1) {
        c.fillStyle = colour;
        c.fillRect(this.x(0) - 2, y(pts[0]![key]) - 2, 4, 4);
      }
    }
    // The cursor.
    const cx = Math.round(this.x(this.current)) + 0.5;
    c.strokeStyle = '#e6edf3';
    c.lineWidth = 1;
    c.beginPath();
    c.moveTo(cx, this.pad.top);
    c.lineTo(cx, H - this.pad.bottom);
    c.stroke();
  }
}
