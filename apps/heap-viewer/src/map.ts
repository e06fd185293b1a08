/**
 * The address-space map: one cell per 64 KiB page, row-major from address 0, drawn into
 * one ImageData (a u32 fill per cell row: 32 768 cells cost a few milliseconds), with an
 * overlay canvas above it for the hovered cell's outline and its SuperSlab / block, so
 * the map's own pixels are only ever the cells' colours.
 */

/** Background between cells (not a cell colour). */
export const GAP_RGB = [13, 17, 23] as const;
const GAP = ((255 << 24) | (GAP_RGB[2] << 16) | (GAP_RGB[1] << 8) | GAP_RGB[0]) >>> 0;

export interface Geometry {
  /** Cells per row (a multiple of 16: a SuperSlab never wraps). */
  readonly columns: number;
  readonly rows: number;
  /** Pixels per cell side, the gap included. */
  readonly cell: number;
  /** Gap pixels at the right and bottom of each cell. */
  readonly gap: number;
  readonly pages: number;
}

/** Columns for `pages` cells: a power of two ≥ 16 giving a map about twice as wide as tall. */
export function geometryFor(pages: number, maxWidth: number): Geometry {
  let columns = 16;
  while (columns * columns < pages * 2 && columns < 1024) columns *= 2;
  const rows = Math.ceil(pages / columns);
  const cell = Math.max(2, Math.min(16, Math.floor(maxWidth / columns)));
  return { columns, rows, cell, gap: cell >= 5 ? 1 : 0, pages };
}

export class MapView {
  private geometry: Geometry = { columns: 16, rows: 1, cell: 8, gap: 1, pages: 0 };
  private image: ImageData | null = null;
  private pixels: Uint32Array = new Uint32Array(0);
  private readonly ctx: CanvasRenderingContext2D;
  private readonly over: CanvasRenderingContext2D;

  constructor(readonly canvas: HTMLCanvasElement, readonly overlay: HTMLCanvasElement) {
    this.ctx = canvas.getContext('2d', { alpha: false })!;
    this.over = overlay.getContext('2d')!;
  }

  get layout(): Geometry {
    return this.geometry;
  }

  /** Sizes the canvases for `pages` cells within `maxWidth` pixels; returns whether the geometry changed. */
  resize(pages: number, maxWidth: number): boolean {
    const g = geometryFor(pages, maxWidth);
    const old = this.geometry;
    if (this.image !== null && g.columns === old.columns && g.cell === old.cell && g.pages === old.pages) return false;
    this.geometry = g;
    const w = g.columns * g.cell;
    const h = g.rows * g.cell;
    for (const c of [this.canvas, this.overlay]) {
      c.width = w;
      c.height = h;
      c.style.width = `${w}px`;
      c.style.height = `${h}px`;
    }
    this.image = this.ctx.createImageData(w, h);
    this.pixels = new Uint32Array(this.image.data.buffer);
    this.canvas.dataset.columns = String(g.columns);
    this.canvas.dataset.cell = String(g.cell);
    this.canvas.dataset.gap = String(g.gap);
    this.canvas.dataset.pages = String(g.pages);
    return true;
  }

  /** Draws every cell with its colour (one packed RGBA u32 per page). */
  draw(colours: Uint32Array): void {
    const { columns, cell, gap, pages } = this.geometry;
    const px = this.pixels;
    const w = columns * cell;
    px.fill(GAP);
    const inner = cell - gap;
    for (let p = 0; p < pages; p++) {
      const c = colours[p]!;
      const x0 = (p % columns) * cell;
      const y0 = Math.floor(p / columns) * cell;
      let o = y0 * w + x0;
      for (let y = 0; y < inner; y++, o += w) px.fill(c, o, o + inner);
    }
    this.ctx.putImageData(this.image!, 0, 0);
  }

  /** The page under a point of the canvas (CSS pixels from its top-left), or -1. */
  pageAt(x: number, y: number): number {
    const { columns, cell, pages } = this.geometry;
    const cx = Math.floor(x / cell);
    const cy = Math.floor(y / cell);
    if (x < 0 || y < 0 || cx >= columns) return -1;
    const p = cy * columns + cx;
    return p < pages ? p : -1;
  }

  /** The centre of a page's cell (CSS pixels from the canvas's top-left). */
  centre(page: number): { x: number; y: number } {
    const { columns, cell, gap } = this.geometry;
    return { x: (page % columns) * cell + (cell - gap) / 2, y: Math.floor(page / columns) * cell + (cell - gap) / 2 };
  }

  /** Outlines the hovered page and, dashed, the run of pages it belongs to (`from`, `count`). */
  highlight(page: number, from = page, count = 1): void {
    const o = this.over;
    o.clearRect(0, 0, this.overlay.width, this.overlay.height);
    if (page < 0) return;
    const { columns, cell } = this.geometry;
    o.lineWidth = 1;
    if (count > 1) {
      o.strokeStyle = 'rgba(255, 255, 255, 0.75)';
      o.setLineDash([3, 2]);
      // One rectangle per row the run covers.
      for (let p = from; p < from + count;) {
        const inRow = Math.min(from + count - p, columns - (p % columns));
        o.strokeRect((p % columns) * cell + 0.5, Math.floor(p / columns) * cell + 0.5, inRow * cell - 1, cell - 1);
        p += inRow;
      }
      o.setLineDash([]);
    }
    o.strokeStyle = '#ffffff';
    o.lineWidth = 2;
    o.strokeRect((page % columns) * cell - 1, Math.floor(page / columns) * cell - 1, cell + 1, cell + 1);
  }
}
