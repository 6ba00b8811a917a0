/**
 * Drawing on a canvas with any pointer (mouse, touch, pen: Pointer Events cover all three; CSS
 * `touch-action: none` on the canvas stops touch from scrolling the page instead). White strokes on
 * black, as MNIST digits are.
 */
export class DrawPad {
  private drawing = false;
  private last: [number, number] | null = null;
  private readonly ctx: CanvasRenderingContext2D;

  /** `onStroke` runs when a stroke ends (pointer lifted or cancelled). */
  constructor(
    readonly canvas: HTMLCanvasElement,
    private readonly onStroke: () => void,
  ) {
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    if (!ctx) throw new Error('DrawPad: no 2D context');
    this.ctx = ctx;
    this.clear();
    canvas.addEventListener('pointerdown', (e) => this.down(e));
    canvas.addEventListener('pointermove', (e) => this.move(e));
    canvas.addEventListener('pointerup', () => this.up());
    canvas.addEventListener('pointercancel', () => this.up());
  }

  clear(): void {
    this.ctx.fillStyle = '#000';
    this.ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
  }

  /** Whether anything is drawn. */
  isEmpty(): boolean {
    const { data } = this.ctx.getImageData(0, 0, this.canvas.width, this.canvas.height);
    for (let i = 0; i < data.length; i += 4) if (data[i] > 0) return false;
    return true;
  }

  /** Paints a grey image (values 0..255, row-major) scaled to fill the canvas. */
  paintImage(pixels: Uint8Array, width: number, height: number): void {
    const small = new OffscreenCanvas(width, height);
    const sctx = small.getContext('2d');
    if (!sctx) return;
    const rgba = new ImageData(width, height);
    pixels.forEach((v, i) => rgba.data.set([v, v, v, 255], 4 * i));
    sctx.putImageData(rgba, 0, 0);
    this.clear();
    this.ctx.imageSmoothingEnabled = true;
    this.ctx.drawImage(small, 0, 0, this.canvas.width, this.canvas.height);
  }

  /** Canvas pixel coordinates of a pointer event (the canvas may be scaled by CSS). */
  private at(e: PointerEvent): [number, number] {
    const r = this.canvas.getBoundingClientRect();
    return [
      ((e.clientX - r.left) * this.canvas.width) / r.width,
      ((e.clientY - r.top) * this.canvas.height) / r.height,
    ];
  }

  private down(e: PointerEvent): void {
    e.preventDefault();
    this.canvas.setPointerCapture(e.pointerId);
    this.drawing = true;
    this.last = this.at(e);
    this.segment(this.last, this.last);
  }

  private move(e: PointerEvent): void {
    if (!this.drawing || !this.last) return;
    const p = this.at(e);
    this.segment(this.last, p);
    this.last = p;
  }

  private up(): void {
    if (!this.drawing) return;
    this.drawing = false;
    this.last = null;
    this.onStroke();
  }

  private segment(from: [number, number], to: [number, number]): void {
    const c = this.ctx;
    c.strokeStyle = '#fff';
    // About a 2-pixel pen at MNIST's 28×28, the width of its strokes.
    c.lineWidth = this.canvas.width / 14;
    c.lineCap = 'round';
    c.lineJoin = 'round';
    c.beginPath();
    c.moveTo(...from);
    c.lineTo(...to);
    c.stroke();
  }
}
