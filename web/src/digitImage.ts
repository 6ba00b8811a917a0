/**
 * A drawing → a 28×28 MNIST-style image, the way MNIST itself was made: the digit's bounding box
 * scaled (aspect kept, anti-aliased) into a 20×20 box, then placed so its centre of mass is at the
 * centre of the 28×28 field.
 */
const SIZE = 28;
const BOX = 20;

/** 28×28 grey bytes (row-major) from a white-on-black canvas, or null when nothing is drawn. */
export function toMnistImage(source: HTMLCanvasElement): Uint8Array | null {
  const ctx = source.getContext('2d', { willReadFrequently: true });
  if (!ctx) return null;
  const { width, height } = source;
  const { data } = ctx.getImageData(0, 0, width, height);
  let [x0, y0, x1, y1] = [width, height, -1, -1];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (data[4 * (y * width + x)] > 0) {
        x0 = Math.min(x0, x);
        x1 = Math.max(x1, x);
        y0 = Math.min(y0, y);
        y1 = Math.max(y1, y);
      }
    }
  }
  if (x1 < 0) return null;
  const bw = x1 - x0 + 1;
  const bh = y1 - y0 + 1;
  const scale = BOX / Math.max(bw, bh);
  const [dw, dh] = [bw * scale, bh * scale];
  const small = new OffscreenCanvas(SIZE, SIZE);
  const sctx = small.getContext('2d', { willReadFrequently: true });
  if (!sctx) return null;
  sctx.fillStyle = '#000';
  sctx.fillRect(0, 0, SIZE, SIZE);
  sctx.imageSmoothingEnabled = true;
  sctx.imageSmoothingQuality = 'high';
  sctx.drawImage(source, x0, y0, bw, bh, (SIZE - dw) / 2, (SIZE - dh) / 2, dw, dh);
  const rgba = sctx.getImageData(0, 0, SIZE, SIZE).data;
  const grey = new Uint8Array(SIZE * SIZE);
  for (let i = 0; i < grey.length; i++) grey[i] = rgba[4 * i];
  return centreOfMassShift(grey);
}

/** Shifts the image by whole pixels so its centre of mass lands on the centre. */
export function centreOfMassShift(img: Uint8Array): Uint8Array {
  let [sum, sx, sy] = [0, 0, 0];
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      const v = img[y * SIZE + x];
      sum += v;
      sx += v * x;
      sy += v * y;
    }
  }
  if (sum === 0) return img;
  const dx = Math.round((SIZE - 1) / 2 - sx / sum);
  const dy = Math.round((SIZE - 1) / 2 - sy / sum);
  const out = new Uint8Array(SIZE * SIZE);
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      const [tx, ty] = [x + dx, y + dy];
      if (tx >= 0 && tx < SIZE && ty >= 0 && ty < SIZE) out[ty * SIZE + tx] = img[y * SIZE + x];
    }
  }
  return out;
}

/** Shows a 28×28 image on a (28×28-pixel, CSS-enlarged) canvas. */
export function showImage(canvas: HTMLCanvasElement, img: Uint8Array | null): void {
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const rgba = new ImageData(SIZE, SIZE);
  if (img) img.forEach((v, i) => rgba.data.set([v, v, v, 255], 4 * i));
  else for (let i = 3; i < rgba.data.length; i += 4) rgba.data[i] = 255;
  ctx.putImageData(rgba, 0, 0);
}
