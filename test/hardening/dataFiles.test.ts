/**
 * Hostile data files: COCO JSON whose file names escape the image folder, boxes and ids that would be
 * stored wrong, PNGs that declare gigapixels or carry bad CRCs, IDX files (plain and gzip) whose
 * headers declare more than the decode cap, and files that are FIFOs or devices. Each is refused
 * naming the file, before the bytes are read or inflated — never a hang, a giant allocation or a
 * silently wrong value. Then seeded mutations of COCO JSON and PNG headers.
 */
import { encode } from 'fast-png';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { crc32, gzipSync } from 'node:zlib';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { loadCifar10 } from '../../src/data/cifar10Files.js';
import { cocoSceneSet, decodePngPixels, parseCocoAnnotations } from '../../src/data/coco.js';
import { loadCocoFolder } from '../../src/data/cocoFiles.js';
import { loadFashionMnist } from '../../src/data/fashionMnist.js';
import { loadIdxFolder } from '../../src/data/idxFiles.js';
import { readBytes } from '../../src/data/readBytes.js';
import { buildModel } from '../../src/models/index.js';
import { DecodeLimitError, MAX_DECODED_BYTES_ENV } from '../../src/io/limits.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'doconv-hostile-data-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
const savedCap = process.env[MAX_DECODED_BYTES_ENV];
afterEach(() => {
  if (savedCap === undefined) delete process.env[MAX_DECODED_BYTES_ENV];
  else process.env[MAX_DECODED_BYTES_ENV] = savedCap;
});

let caseNo = 0;
const freshDir = () => {
  const d = path.join(root, `case-${++caseNo}`);
  fs.mkdirSync(d, { recursive: true });
  return d;
};
const png = (w = 4, h = 3) =>
  encode({ width: w, height: h, data: new Uint8Array(w * h), channels: 1, depth: 8 });

/** A COCO folder: images/a.png (and outside/secret.png beside it), train.json with `images`. */
function cocoFolder(images: unknown[], extra: Record<string, unknown> = {}) {
  const dir = freshDir();
  fs.mkdirSync(path.join(dir, 'images'));
  fs.mkdirSync(path.join(dir, 'outside'));
  fs.writeFileSync(path.join(dir, 'images', 'a.png'), png());
  fs.writeFileSync(path.join(dir, 'outside', 'secret.png'), png());
  const annotations = path.join(dir, 'train.json');
  fs.writeFileSync(
    annotations,
    JSON.stringify({ images, annotations: [], categories: [{ id: 1, name: 'one' }], ...extra }),
  );
  return { dir, annotations, imageDir: path.join(dir, 'images') };
}
const image = (file_name: unknown, id = 1) => ({ id, file_name, width: 4, height: 3 });

describe('COCO image paths: one rule for paths read from files', () => {
  const refused: Array<[string, unknown, RegExp]> = [
    [
      'a path up to /dev/zero',
      '../../../../../../../../dev/zero',
      /lists image ".*dev\/zero": it leaves its folder/,
    ],
    ['a path up to /etc/passwd', '../../etc/passwd', /it leaves its folder/],
    ['a path up to a sibling folder', '../outside/secret.png', /it leaves its folder/],
    ['an absolute path', '/etc/passwd', /absolute paths are not allowed/],
    ['a NUL byte', 'a.png\u0000x', /absolute paths are not allowed/],
  ];
  for (const [label, name, message] of refused) {
    it(`refuses ${label}, naming the JSON file and the path`, () => {
      const c = cocoFolder([image(name)]);
      expect(() => loadCocoFolder({ annotations: c.annotations, imageDir: c.imageDir })).toThrow(
        message,
      );
      expect(() => loadCocoFolder({ annotations: c.annotations, imageDir: c.imageDir })).toThrow(
        /train\.json lists image/,
      );
    });
  }

  it('refuses a symlink inside the image folder that points out of it', () => {
    const c = cocoFolder([image('link.png')]);
    fs.symlinkSync(path.join(c.dir, 'outside', 'secret.png'), path.join(c.imageDir, 'link.png'));
    expect(() => loadCocoFolder({ annotations: c.annotations, imageDir: c.imageDir })).toThrow(
      /lists image "link\.png": .*link\.png resolves to .*outside\/secret\.png \(through a symlink\), outside the folder/,
    );
  });

  it('refuses a symlink to /dev/zero and a FIFO at once', () => {
    const c = cocoFolder([image('zero.png'), image('fifo.png', 2)]);
    fs.symlinkSync('/dev/zero', path.join(c.imageDir, 'zero.png'));
    expect(() => loadCocoFolder({ annotations: c.annotations, imageDir: c.imageDir })).toThrow(
      /resolves to \/dev\/zero/,
    );
    fs.rmSync(path.join(c.imageDir, 'zero.png'));
    fs.copyFileSync(path.join(c.imageDir, 'a.png'), path.join(c.imageDir, 'zero.png'));
    execFileSync('mkfifo', [path.join(c.imageDir, 'fifo.png')]);
    expect(() => loadCocoFolder({ annotations: c.annotations, imageDir: c.imageDir })).toThrow(
      /cannot read image .*fifo\.png \(listed in .*train\.json\): it is a FIFO/,
    );
  });

  it('refuses a label mask behind a symlink out of the mask folder', () => {
    const c = cocoFolder([image('a.png')]);
    const maskDir = path.join(c.dir, 'masks');
    fs.mkdirSync(maskDir);
    fs.symlinkSync(path.join(c.dir, 'outside', 'secret.png'), path.join(maskDir, 'a.png'));
    expect(() =>
      loadCocoFolder({ annotations: c.annotations, imageDir: c.imageDir, maskDir }),
    ).toThrow(/lists label mask "a\.png": .*outside the folder/);
  });

  it('loads images in a subfolder and through a symlink that stays inside', () => {
    const c = cocoFolder([image('sub/b.png'), image('inner.png', 2)]);
    fs.mkdirSync(path.join(c.imageDir, 'sub'));
    fs.writeFileSync(path.join(c.imageDir, 'sub', 'b.png'), png());
    fs.symlinkSync('a.png', path.join(c.imageDir, 'inner.png'));
    const set = loadCocoFolder({ annotations: c.annotations, imageDir: c.imageDir });
    expect(set.count).toBe(2);
  });

  it('reads its PNGs through the shared decoder, with a per-call maxBytes (#23 class 3)', () => {
    const c = cocoFolder([image('a.png')]); // 4×3 gray: 12 bytes
    const load = (maxBytes?: number) =>
      loadCocoFolder({ annotations: c.annotations, imageDir: c.imageDir, maxBytes });
    expect(() => load(11)).toThrow(DecodeLimitError);
    expect(() => load(11)).toThrow(
      /a\.png: declares a 4×3 PNG .*= 12 bytes, over the decode limit of 11 bytes/,
    );
    expect(load(12).count).toBe(1);
  });

  it('gray and RGB from every PNG kind, as plain loops compute them', () => {
    // 2 pixels; RGB (10, 200, 30) and (255, 0, 128); luma = ⌊(299r + 587g + 114b + 500) / 1000⌋.
    const rgb = [10, 200, 30, 255, 0, 128];
    const luma = [0, 1].map((p) =>
      Math.floor((rgb[3 * p] * 299 + rgb[3 * p + 1] * 587 + rgb[3 * p + 2] * 114 + 500) / 1000),
    );
    const gray = [7, 250];
    const kinds: Array<[string, Parameters<typeof encode>[0], number[], number[]]> = [
      [
        'RGB 8-bit',
        { width: 2, height: 1, data: Uint8Array.from(rgb), channels: 3, depth: 8 },
        rgb,
        luma,
      ],
      [
        'RGBA 8-bit',
        {
          width: 2,
          height: 1,
          data: Uint8Array.from([10, 200, 30, 0, 255, 0, 128, 9]),
          channels: 4,
          depth: 8,
        },
        rgb,
        luma,
      ],
      [
        'RGB 16-bit (high byte kept)',
        {
          width: 2,
          height: 1,
          data: Uint16Array.from(rgb.map((v) => v * 256 + 77)),
          channels: 3,
          depth: 16,
        },
        rgb,
        luma,
      ],
      [
        'gray + alpha',
        { width: 2, height: 1, data: Uint8Array.from([7, 1, 250, 2]), channels: 2, depth: 8 },
        gray.flatMap((g) => [g, g, g]),
        gray,
      ],
      [
        'gray 8-bit',
        { width: 2, height: 1, data: Uint8Array.from(gray), channels: 1, depth: 8 },
        gray.flatMap((g) => [g, g, g]),
        gray,
      ],
    ];
    for (const [kind, spec, wantRgb, wantGray] of kinds) {
      const bytes = encode(spec);
      expect([...decodePngPixels(bytes, 3, kind).data], kind).toEqual(wantRgb);
      expect([...decodePngPixels(bytes, 1, kind).data], kind).toEqual(wantGray);
    }
  });

  it('refuses an annotations file that is a FIFO or over the decode cap', () => {
    const c = cocoFolder([image('a.png')]);
    const fifo = path.join(c.dir, 'fifo.json');
    execFileSync('mkfifo', [fifo]);
    expect(() => loadCocoFolder({ annotations: fifo, imageDir: c.imageDir })).toThrow(
      /cannot read annotations file .*fifo\.json: it is a FIFO/,
    );
    process.env[MAX_DECODED_BYTES_ENV] = '64';
    expect(() => loadCocoFolder({ annotations: c.annotations, imageDir: c.imageDir })).toThrow(
      /annotations file .*train\.json: declares its size = \d+ bytes, over the decode limit of 64 bytes/,
    );
  });
});

describe('COCO values that would be stored wrong', () => {
  const base = {
    images: [image('a.png', 1), image('b.png', 2)],
    categories: [{ id: 1, name: 'one' }],
    annotations: [] as unknown[],
  };
  it('refuses a bbox that float32 would store as Infinity, naming the annotation', () => {
    const json = {
      ...base,
      annotations: [{ image_id: 1, category_id: 1, bbox: [0, 0, 1e300, 1] }],
    };
    expect(() => parseCocoAnnotations(json, 'x.json')).toThrow(
      /x\.json: annotations\[0\]\.bbox \[0,0,1e\+300,1\] has a corner beyond ±16777216 pixels/,
    );
  });
  it('refuses 1e400 (JSON for Infinity) in a bbox and as an image size', () => {
    const text = JSON.stringify({
      ...base,
      annotations: [{ image_id: 1, category_id: 1, bbox: [0, 0, 'BIG', 1] }],
    }).replace('"BIG"', '1e400');
    expect(() => parseCocoAnnotations(JSON.parse(text), 'x.json')).toThrow(
      /bbox must be \[x, y, width, height\] numbers/,
    );
    const sized = JSON.stringify({
      ...base,
      images: [{ id: 1, file_name: 'a.png', width: 'BIG', height: 3 }],
    }).replace('"BIG"', '1e400');
    expect(() => parseCocoAnnotations(JSON.parse(sized), 'x.json')).toThrow(
      /images\[0\]\.width must be a positive integer, got Infinity/,
    );
  });
  it('refuses two images with one id (their boxes would be merged onto one)', () => {
    const json = { ...base, images: [image('a.png', 5), image('b.png', 5)] };
    expect(() => parseCocoAnnotations(json, 'x.json')).toThrow(
      /x\.json: images\[1\] has id 5, as images\[0\] does; image ids must be unique/,
    );
  });
});

/** A PNG's bytes with its IHDR rewritten to `w`×`h` (CRC recomputed so only the size is hostile). */
function pngDeclaring(w: number, h: number): Uint8Array {
  const bytes = Uint8Array.from(png());
  const view = new DataView(bytes.buffer);
  view.setUint32(16, w);
  view.setUint32(20, h);
  view.setUint32(29, crc32(bytes.subarray(12, 29)));
  return bytes;
}

describe('PNG headers', () => {
  it('refuses a PNG declaring 40000×40000 before inflating it, naming file and size', () => {
    const bytes = pngDeclaring(40_000, 40_000);
    expect(bytes.length).toBeLessThan(200);
    let err: unknown;
    try {
      decodePngPixels(bytes, 3, 'huge.png');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DecodeLimitError);
    expect((err as Error).message).toMatch(
      /^huge\.png: declares a 40000×40000 PNG .* = 1600000000 bytes, over the decode limit/,
    );
  });
  it('refuses a PNG with a bad CRC, naming the file', () => {
    const bytes = Uint8Array.from(png());
    bytes[bytes.length - 20] ^= 0xff; // inside the IDAT chunk: its CRC no longer matches
    expect(() => decodePngPixels(bytes, 1, 'crc.png')).toThrow(
      /crc\.png: not a readable PNG \(.*CRC/i,
    );
  });
  it('the cap applies to COCO images through the environment variable', () => {
    process.env[MAX_DECODED_BYTES_ENV] = '10';
    const annotations = parseCocoAnnotations({
      images: [image('a.png')],
      annotations: [],
      categories: [],
    });
    expect(() => cocoSceneSet({ annotations, image: () => png() })).toThrow(
      /a\.png: declares a 4×3 PNG/,
    );
  });
});

/** An IDX file: magic 0000 08 ndims, big-endian dims, then `data`. */
function idx(
  dims: number[],
  data: Uint8Array = new Uint8Array(dims.reduce((a, b) => a * b, 1)),
): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.writeUInt32BE(0x0800 | dims.length, 0);
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, data]);
}

/** An MNIST-layout folder; `images`/`labels` replace the train files (gzipped when the name ends .gz). */
function idxFolder(images: Buffer, labels: Buffer, gz = false) {
  const dir = freshDir();
  const put = (name: string, b: Buffer) =>
    fs.writeFileSync(path.join(dir, gz ? `${name}.gz` : name), gz ? gzipSync(b) : b);
  put('train-images-idx3-ubyte', images);
  put('train-labels-idx1-ubyte', labels);
  return dir;
}

describe('IDX budgets', () => {
  it('refuses a gzip IDX whose header declares more than the cap, before inflating it', async () => {
    process.env[MAX_DECODED_BYTES_ENV] = '1M';
    // 4000 images of 28×28 = 3.1 MB of zeros, 3 KB gzipped.
    const dir = idxFolder(idx([4000, 28, 28]), idx([4000]), true);
    await expect(loadIdxFolder(dir, { split: 'train', name: 'x' })).rejects.toThrow(
      /train-images-idx3-ubyte\.gz: declares 4000×28×28 ubyte values = 3136000 bytes, over the decode limit of 1048576 bytes/,
    );
  });
  it('stops inflating a gzip IDX whose header lies, just past what it declared', async () => {
    process.env[MAX_DECODED_BYTES_ENV] = '1M';
    const lying = Buffer.concat([idx([1, 2, 2], new Uint8Array(4)), Buffer.alloc(3_000_000)]);
    const dir = idxFolder(lying, idx([1]), true);
    await expect(loadIdxFolder(dir, { split: 'train', name: 'x' })).rejects.toThrow(
      /train-images-idx3-ubyte\.gz: gzip data inflates past the 20 bytes its header declares/,
    );
  });
  it('stops inflating any gzip data file at the cap (CIFAR-10 batches are read the same way)', async () => {
    process.env[MAX_DECODED_BYTES_ENV] = '1M';
    const file = path.join(freshDir(), 'data_batch_1.bin');
    fs.writeFileSync(file, gzipSync(Buffer.alloc(3_000_000)));
    await expect(readBytes(file)).rejects.toThrow(
      /data file .*data_batch_1\.bin: gzip data inflates past the decode limit of 1048576 bytes \(raise it with DOCONV_MAX_DECODED_BYTES/,
    );
  });

  it('refuses images of 0 pixels, and 1×1 images where the data set is 28×28', async () => {
    const empty = idxFolder(idx([3, 0, 5]), idx([3]));
    await expect(loadIdxFolder(empty, { split: 'train', name: 'x' })).rejects.toThrow(
      /train-images-idx3-ubyte: images of 0×5 pixels hold nothing/,
    );
    const tiny = idxFolder(idx([3, 1, 1]), idx([3]));
    await expect(loadFashionMnist({ split: 'train', dir: tiny })).rejects.toThrow(
      /train-images-idx3-ubyte holds 1×1 images; fashion-mnist\/train images are 28×28/,
    );
  });

  it('a generic IDX folder of 1×1 images loads, and a zoo net too big for them says so', async () => {
    const tiny = idxFolder(idx([3, 1, 1], new Uint8Array([0, 128, 255])), idx([3]));
    const ds = await loadIdxFolder(tiny, { split: 'train', name: 'tiny' });
    expect([ds.count, ds.height, ds.width, ds.channels]).toEqual([3, 1, 1, 1]);
    expect([...ds.images]).toEqual([0, 128, 255]);
    // Its 'valid' 3×3 convs would compute -1×-1 outputs: the engines failed on them with
    // "bad geometry: field 4 is -1" when the model ran; now building it is refused.
    const shape = [ds.height, ds.width, ds.channels];
    for (const conv of ['conv', 'doconv'] as const) {
      expect(() =>
        buildModel('tf-mnist-sample', { conv, inputShape: shape, numClasses: 10 }),
      ).toThrow(
        /^(Conv2D|DOConv2D) 'conv1': an input of 1×1×1 gives an output of -1×-1×32 — the input is too small for the layer's window/,
      );
    }
    // A net whose convs pad works on them.
    const model = buildModel('pt-mnist-sample', {
      conv: 'doconv',
      inputShape: shape,
      numClasses: 10,
    });
    expect(model.outputs[0].shape).toEqual([null, 10]);
    model.dispose();
  });
  it('refuses a FIFO where a data file should be, at once', async () => {
    const dir = freshDir();
    fs.writeFileSync(path.join(dir, 'train-labels-idx1-ubyte'), idx([1]));
    execFileSync('mkfifo', [path.join(dir, 'train-images-idx3-ubyte')]);
    await expect(loadIdxFolder(dir, { split: 'train', name: 'x' })).rejects.toThrow(
      /cannot read data file .*train-images-idx3-ubyte: it is a FIFO/,
    );
    const cifar = freshDir();
    execFileSync('mkfifo', [path.join(cifar, 'test_batch.bin')]);
    await expect(loadCifar10(cifar, { split: 'test', recordsPerFile: 1 })).rejects.toThrow(
      /test_batch\.bin/,
    );
  });
});

/** mulberry32: seeded, so a failing mutation reproduces. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('seeded mutations', () => {
  // Near-valid numbers (1, 2, 3 collide with real ids) as often as hostile ones.
  const hostileValues: unknown[] = [
    1,
    2,
    3,
    4,
    0,
    -1,
    1.5,
    1e300,
    -1e300,
    Infinity,
    NaN,
    2 ** 53,
    null,
    '1',
    '',
    [],
    {},
    true,
    '../x',
    '/etc/passwd',
  ];

  it('COCO JSON: each parses to sane values or is refused naming the file', () => {
    const valid = {
      images: [image('a.png', 1), image('b.png', 2)],
      categories: [
        { id: 3, name: 'c' },
        { id: 4, name: 'd' },
      ],
      annotations: [
        { image_id: 1, category_id: 3, bbox: [1, 2, 3, 4] },
        { image_id: 2, category_id: 4, bbox: [0, 0, 2, 2], iscrowd: 0 },
      ],
    };
    let refused = 0;
    for (let seed = 1; seed <= 1000; seed++) {
      const r = rng(seed);
      const json = structuredClone(valid) as Record<string, Array<Record<string, unknown>>>;
      for (let e = 0; e < 1 + Math.floor(r() * 3); e++) {
        const list = json[['images', 'categories', 'annotations'][Math.floor(r() * 3)]];
        const entry = list[Math.floor(r() * list.length)];
        const keys = Object.keys(entry);
        const key = keys[Math.floor(r() * keys.length)];
        if (key === 'bbox' && r() < 0.5)
          (entry.bbox as unknown[])[Math.floor(r() * 4)] =
            hostileValues[Math.floor(r() * hostileValues.length)];
        else entry[key] = hostileValues[Math.floor(r() * hostileValues.length)];
      }
      try {
        const parsed = parseCocoAnnotations(json, `seed-${seed}.json`);
        // Accepted: unique ids, and every stored box corner finite in float32.
        expect(new Set(parsed.images.map((i) => i.id)).size, `seed ${seed}`).toBe(
          parsed.images.length,
        );
        for (const list of parsed.boxes.values())
          for (const { box } of list)
            expect(Float32Array.from(box).every(Number.isFinite), `seed ${seed}`).toBe(true);
      } catch (e) {
        expect((e as Error).message, `seed ${seed}`).toMatch(new RegExp(`^seed-${seed}\\.json: `));
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(300);
  });

  it('PNG headers: each decodes within the cap or is refused naming the file', () => {
    process.env[MAX_DECODED_BYTES_ENV] = '1M';
    const valid = Uint8Array.from(png(6, 5));
    let decoded = 0;
    for (let seed = 1; seed <= 400; seed++) {
      const r = rng(seed);
      const bytes = Uint8Array.from(valid);
      const view = new DataView(bytes.buffer);
      for (let e = 0; e < 1 + Math.floor(r() * 3); e++) {
        const kind = r();
        if (kind < 0.4)
          view.setUint32(16 + 4 * Math.floor(r() * 2), Math.floor(r() * 2 ** 32)); // width/height
        else if (kind < 0.6)
          bytes[24 + Math.floor(r() * 5)] = Math.floor(r() * 256); // depth, colour, methods
        else if (kind < 0.8) bytes[Math.floor(r() * bytes.length)] = Math.floor(r() * 256);
        else view.setUint32(8, Math.floor(r() * 2 ** 32)); // IHDR length
      }
      if (r() < 0.7) view.setUint32(29, crc32(bytes.subarray(12, 29))); // mostly keep IHDR's CRC valid
      try {
        const out = decodePngPixels(bytes, 1, `seed-${seed}.png`);
        expect(out.data.length, `seed ${seed}`).toBe(out.width * out.height);
        decoded++;
      } catch (e) {
        expect((e as Error).message, `seed ${seed}`).toMatch(new RegExp(`^seed-${seed}\\.png: `));
      }
    }
    expect(decoded).toBeGreaterThan(0);
  });
});
