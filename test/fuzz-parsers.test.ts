/**
 * Fuzzing the public parsers of the WCS / PhotoCalib layer with mutated real
 * inputs (issue 10 "Fuzzing", issue 11 "every size field has a bound"):
 * mutated real headers (truncations, flipped bytes, deleted / duplicated /
 * swapped cards, huge or non-finite values, CONTINUE cards), mutated FITS
 * files (NAXISn, BITPIX, PCOUNT/GCOUNT, truncated or padded data) and mutated
 * PhotoCalib JSON and FLUXMAG0 headers. The law: each case either parses or
 * throws a SkycalError with code BAD_INPUT; no other exception, each case
 * bounded in time, and no allocation from a size field (every size is
 * checked against the file's length before use, so memory stays flat).
 *
 * SKYCAL_FUZZ_RUNS sets the cases per parser (default 1,000: 10,000 take ~40 s on
 * the shared 2-core test machine, over the suite's budget; CI may set 10000;
 * `scripts/fuzz` runs 1,000,000).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { SkycalError } from '../src/errors.js';
import { readHdus } from '../src/fits/file.js';
import { FitsHeader, cardsToBlocks, formatCard } from '../src/fits/header.js';
import { readImage, writeImage } from '../src/fits/image.js';
import { TanSipWcs, wcsFromBytes } from '../src/wcs/index.js';
import { PhotoCalib, photoCalibFromBytes } from '../src/photocalib/index.js';
import { wcsHeaderDir, fuzzSeed } from './helpers.js';

const RUNS = Number(process.env['SKYCAL_FUZZ_RUNS'] ?? 1_000);
/** Any one case slower than this is a hang (a real one parses in well under 1 ms). */
const CASE_LIMIT_MS = 2000;
/** The heap may not grow past this over a whole property (a size field that allocated would blow it). */
const HEAP_LIMIT_BYTES = 512 * 2 ** 20;

const headers = readdirSync(wcsHeaderDir).filter((f) => f.endsWith('.hdr')).map((f) => readFileSync(join(wcsHeaderDir, f), 'latin1'));
const enc = new TextEncoder();
const latin1 = new TextDecoder('latin1');

/** Runs `parse`; fails on anything but success or a BAD_INPUT SkycalError, or on a slow case. */
function expectParsedOrBadInput(parse: () => unknown, label: () => string): void {
  const t0 = performance.now();
  try {
    parse();
  } catch (e) {
    if (!(SkycalError.isSkycalError(e) && e.code === 'BAD_INPUT')) {
      assert.fail(`${label()}: expected BAD_INPUT, got ${SkycalError.isSkycalError(e) ? e.code : (e as Error)?.name}: ${(e as Error)?.message ?? e}`);
    }
  }
  const ms = performance.now() - t0;
  assert.ok(ms < CASE_LIMIT_MS, `${label()}: took ${ms.toFixed(0)} ms`);
}

function withHeapBound(run: () => void): void {
  const before = process.memoryUsage().heapUsed;
  run();
  const grown = process.memoryUsage().heapUsed - before;
  assert.ok(grown < HEAP_LIMIT_BYTES, `heap grew by ${(grown / 2 ** 20).toFixed(0)} MiB`);
}

// ---------------------------------------------------------------------------
// Header mutations

const VALUES = ['1E999', '-1E999', 'NAN', 'INF', '1E308', '-1E308', '1E300', '1E-300', '0', '-1', '2.5', '-0.0', "'abc'", 'T', '', "'unterminated", '9007199254740993', '1D5'];
const KEYS = ['NAXIS', 'NAXIS1', 'NAXIS2', 'BITPIX', 'CRPIX1', 'CRVAL1', 'CRVAL2', 'CD1_1', 'CD2_2', 'PC1_1', 'CDELT1', 'A_ORDER', 'B_ORDER', 'AP_ORDER', 'A_2_0', 'B_0_2', 'AP_1_0', 'LONPOLE', 'CTYPE1', 'CTYPE2', 'IMAGEW', 'LTV1', 'CRVAL1A', 'CTYPE1A', 'RADESYS', 'EQUINOX', 'FLUXMAG0', 'FLUXMAG0ERR'];

type Op =
  | { op: 'truncate'; at: number }
  | { op: 'flip'; at: number; byte: number }
  | { op: 'delete'; at: number }
  | { op: 'duplicate'; at: number }
  | { op: 'swap'; at: number; with: number }
  | { op: 'value'; at: number; value: string }
  | { op: 'insert'; at: number; key: string; value: string }
  | { op: 'continue'; at: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('duplicate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('swap' as const), at: fc.nat(), with: fc.nat() }),
  fc.record({ op: fc.constant('value' as const), at: fc.nat(), value: fc.constantFrom(...VALUES) }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), key: fc.constantFrom(...KEYS), value: fc.constantFrom(...VALUES) }),
  fc.record({ op: fc.constant('continue' as const), at: fc.nat() }),
);

/** The header as cards (80-char strings), mutated, then joined as lines. */
function mutateHeader(text: string, ops: readonly Op[]): string {
  let cards = text.split('\n').filter((l) => l.length > 0).map((l) => l.padEnd(80).slice(0, 80));
  let joined: string | undefined;
  for (const o of ops) {
    const i = cards.length === 0 ? 0 : o.at % cards.length;
    switch (o.op) {
      case 'delete': cards.splice(i, 1); break;
      case 'duplicate': if (cards[i] !== undefined) cards.splice(i, 0, cards[i]!); break;
      case 'swap': { const j = cards.length === 0 ? 0 : o.with % cards.length; [cards[i], cards[j]] = [cards[j]!, cards[i]!]; break; }
      case 'value': if (cards[i] !== undefined) cards[i] = `${cards[i]!.slice(0, 10)}${o.value.padStart(20)}`.padEnd(80).slice(0, 80); break;
      case 'insert': cards.splice(i, 0, `${o.key.padEnd(8)}= ${o.value.padStart(20)}`.padEnd(80).slice(0, 80)); break;
      case 'continue': cards.splice(i, 0, `CONTINUE  '${'x'.repeat(o.at % 60)}&'`.padEnd(80)); break;
      case 'truncate': case 'flip': break;
    }
  }
  joined = cards.join('\n');
  for (const o of ops) {
    if (o.op === 'truncate') joined = joined.slice(0, o.at % (joined.length + 1));
    if (o.op === 'flip' && joined.length > 0) {
      const at: number = o.at % joined.length;
      joined = joined.slice(0, at) + String.fromCharCode(o.byte) + joined.slice(at + 1);
    }
  }
  return joined;
}

const headerCase = fc.record({ h: fc.nat({ max: headers.length - 1 }), ops: fc.array(opArb, { minLength: 1, maxLength: 5 }) });

test(`mutated real headers into TanSipWcs.fromFitsHeader and wcsFromBytes (loadWcs's reader): parsed or BAD_INPUT (${RUNS} cases)`, () => {
  withHeapBound(() =>
    fc.assert(
      fc.property(headerCase, ({ h, ops }) => {
        const text = mutateHeader(headers[h]!, ops);
        const label = () => `header ${h} ops ${JSON.stringify(ops)}`;
        expectParsedOrBadInput(() => {
          const wcs = TanSipWcs.fromFitsHeader(text);
          // A WCS that parses must map points without throwing (bad points get NaN + status).
          wcs.skyToPixelArrays(...(() => { const s = wcs.pixelToSkyArrays([0, 100], [0, 100]); return [s.ra, s.dec] as const; })());
        }, label);
        expectParsedOrBadInput(() => wcsFromBytes(enc.encode(text), 'fuzz.hdr'), label);
      }),
      { numRuns: RUNS, ...fuzzSeed() },
    ),
  );
});

// ---------------------------------------------------------------------------
// FITS file mutations

const wcsCards = (text: string) =>
  FitsHeader.parse(text).cards.filter((c) => !/^(SIMPLE|BITPIX|NAXIS\d*|EXTEND|XTENSION|PCOUNT|GCOUNT|BSCALE|BZERO|BLANK)$/.test(c.key)).map((c) => c.raw);
const fitsFiles = headers.map((text, i) =>
  writeImage({ width: 8 + i, height: 5, pixels: new Float64Array((8 + i) * 5).fill(1), bitpix: i % 2 === 0 ? -32 : 16, bscale: 1, bzero: 0 }, { cards: wcsCards(text) }),
);

const SIZE_VALUES = ['-1', '0', '2.5', '1E15', '2147483648', '9007199254740993', '-2147483648', '1E308', 'NAN', '7', '64', '-64', '999', '1000'];
const SIZE_KEYS = ['NAXIS', 'NAXIS1', 'NAXIS2', 'NAXIS3', 'BITPIX', 'PCOUNT', 'GCOUNT'];
type FitsOp =
  | { op: 'size'; key: string; value: string }
  | { op: 'truncate'; at: number }
  | { op: 'append'; blocks: number; byte: number }
  | { op: 'flip'; at: number; byte: number };
const fitsOpArb: fc.Arbitrary<FitsOp> = fc.oneof(
  fc.record({ op: fc.constant('size' as const), key: fc.constantFrom(...SIZE_KEYS), value: fc.constantFrom(...SIZE_VALUES) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('append' as const), blocks: fc.integer({ min: 1, max: 3 }), byte: fc.constantFrom(0, 0x20, 0x53) }),
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
);

/** Sets (or adds, before END) a size card in the primary header of a FITS file's bytes. */
function setCard(bytes: Uint8Array, key: string, value: string): Uint8Array {
  const text = latin1.decode(bytes.subarray(0, Math.min(bytes.length, 2880 * 4)));
  const image = `${key.padEnd(8)}= ${value.padStart(20)}`.padEnd(80);
  const out = Uint8Array.from(bytes);
  for (let c = 0; c + 80 <= text.length; c += 80) {
    const k = text.slice(c, c + 8).trim();
    if (k === key || k === 'END') {
      if (k === 'END' && c + 160 > text.length) return out;
      if (k === 'END') out.set(enc.encode('END'.padEnd(80)), c + 80);
      out.set(enc.encode(image), c);
      return out;
    }
  }
  return out;
}

function mutateFits(bytes: Uint8Array, ops: readonly FitsOp[]): Uint8Array {
  let out = bytes;
  for (const o of ops) {
    if (o.op === 'size') out = setCard(out, o.key, o.value);
    else if (o.op === 'truncate') out = out.subarray(0, o.at % (out.length + 1));
    else if (o.op === 'append') {
      const more = new Uint8Array(out.length + o.blocks * 2880).fill(o.byte);
      more.set(out);
      out = more;
    } else if (out.length > 0) {
      out = Uint8Array.from(out);
      out[o.at % Math.min(out.length, 2880 * 2)] = o.byte; // in the header, mostly
    }
  }
  return out;
}

const fitsCase = fc.record({ f: fc.nat({ max: fitsFiles.length - 1 }), ops: fc.array(fitsOpArb, { minLength: 1, maxLength: 4 }) });

test(`mutated FITS files (NAXISn, BITPIX, PCOUNT/GCOUNT, truncation) into readHdus, readImage, TanSipWcs.fromFitsFile, wcsFromBytes: parsed or BAD_INPUT (${RUNS} cases)`, () => {
  withHeapBound(() =>
    fc.assert(
      fc.property(fitsCase, ({ f, ops }) => {
        const bytes = mutateFits(fitsFiles[f]!, ops);
        const label = () => `file ${f} ops ${JSON.stringify(ops)}`;
        expectParsedOrBadInput(() => {
          const hdus = readHdus(bytes, 'fuzz.fits');
          // The walk moved forward and stayed inside the file.
          for (const h of hdus) assert.ok(h.dataOffset + h.dataLength <= bytes.length && h.dataLength >= 0, label());
        }, label);
        expectParsedOrBadInput(() => readImage(bytes, undefined, 'fuzz.fits'), label);
        expectParsedOrBadInput(() => TanSipWcs.fromFitsFile(bytes, undefined, { source: 'fuzz.fits' }), label);
        expectParsedOrBadInput(() => wcsFromBytes(bytes, 'fuzz.fits'), label);
      }),
      { numRuns: RUNS, ...fuzzSeed() },
    ),
  );
});

// ---------------------------------------------------------------------------
// PhotoCalib

const calibDocs: unknown[] = [
  { photoCalibVersion: 1, calibrationMean: 2, calibrationErr: 0.1, isConstant: true, field: { type: 'constant', value: 2 } },
  {
    photoCalibVersion: 1, calibrationMean: 1, calibrationErr: 0, isConstant: false,
    field: { type: 'product', factors: [{ type: 'chebyshev', bbox: { minX: 0, minY: 0, maxX: 99, maxY: 49 }, coefficients: [[1, 0.1], [0.01, 0]] }, { type: 'constant', value: 3 }] },
  },
];

const jsonLeaf = fc.oneof(
  fc.constantFrom(1e308, -1e308, 1e300, 1e-300, 0, -1, 2.5, NaN, null, true, 'x', [], {}, [[1e308, 1e308]], { minX: 0, minY: 0, maxX: -1, maxY: 0 }),
  fc.jsonValue({ maxDepth: 3 }),
);
/** Replace the value at a random path of the document (paths drawn by index into the keys met on the way). */
const calibCase = fc.record({
  d: fc.nat({ max: calibDocs.length - 1 }),
  edits: fc.array(fc.record({ path: fc.array(fc.nat(), { minLength: 1, maxLength: 6 }), value: jsonLeaf }), { minLength: 1, maxLength: 3 }),
  nest: fc.nat({ max: 30 }),
});

function edit(doc: unknown, path: readonly number[], value: unknown): unknown {
  if (path.length === 0 || typeof doc !== 'object' || doc === null) return value;
  const keys = Object.keys(doc);
  if (keys.length === 0) return value;
  const k = keys[path[0]! % keys.length]!;
  const copy: Record<string, unknown> = Array.isArray(doc) ? ([...doc] as unknown as Record<string, unknown>) : { ...(doc as Record<string, unknown>) };
  copy[k] = edit((doc as Record<string, unknown>)[k], path.slice(1), value);
  return copy;
}

test(`mutated PhotoCalib JSON into PhotoCalib.fromJson and photoCalibFromBytes: BAD_INPUT or a calibration with finite fluxes (${RUNS} cases)`, () => {
  withHeapBound(() =>
    fc.assert(
      fc.property(calibCase, ({ d, edits, nest }) => {
        let doc: unknown = calibDocs[d];
        for (const e of edits) doc = edit(doc, e.path, e.value);
        let text = JSON.stringify(doc) ?? 'null';
        if (nest > 20 && typeof doc === 'object' && doc !== null && !Array.isArray(doc)) {
          // Products nested thousands deep, written as text (building them as objects would overflow JSON.stringify).
          const inner = JSON.stringify((doc as Record<string, unknown>)['field'] ?? null);
          const n = nest * 100;
          const deep = '{"type":"product","factors":['.repeat(n) + inner + ']}'.repeat(n);
          text = JSON.stringify({ ...(doc as Record<string, unknown>), field: '__FIELD__' }).replace('"__FIELD__"', deep);
        }
        const label = () => `doc ${d} edits ${JSON.stringify(edits)} nest ${nest}`;
        expectParsedOrBadInput(() => {
          const c = PhotoCalib.fromJson(text);
          const b = c.field.bbox;
          const at: { x: number; y: number } = b ? { x: (b.minX + b.maxX) / 2, y: b.minY } : { x: 0, y: 0 };
          const flux = c.instFluxToNanojansky(1e6, at);
          assert.ok(Number.isFinite(flux), `${label()}: accepted, but flux ${flux}`);
        }, label);
        expectParsedOrBadInput(() => photoCalibFromBytes(enc.encode(text), 'fuzz.json'), label);
      }),
      { numRuns: RUNS, ...fuzzSeed() },
    ),
  );
});

const fluxHeader = ['SIMPLE  =                    T', 'BITPIX  =                    8', 'NAXIS   =                    0', 'FLUXMAG0=            6.3096E10', 'HIERARCH FLUXMAG0ERR = 1.0E8', 'END'].join('\n');

test(`mutated FLUXMAG0 headers into PhotoCalib.fromFitsHeader and photoCalibFromBytes: parsed or BAD_INPUT (${RUNS} cases)`, () => {
  withHeapBound(() =>
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 5 }), fc.boolean(), (ops, blocks) => {
        const text = mutateHeader(fluxHeader, ops);
        const bytes = blocks ? enc.encode(cardsToBlocks(text.split('\n').map((l) => l.padEnd(80).slice(0, 80)).filter((l) => !/^END\s*$/.test(l)))) : enc.encode(text);
        const label = () => `ops ${JSON.stringify(ops)} blocks ${blocks}`;
        expectParsedOrBadInput(() => PhotoCalib.fromFitsHeader(text), label);
        expectParsedOrBadInput(() => photoCalibFromBytes(bytes, 'fuzz.hdr'), label);
      }),
      { numRuns: RUNS, ...fuzzSeed() },
    ),
  );
});

test('the fuzzers start from inputs that parse (so a mutation is what breaks them)', () => {
  for (const h of headers) TanSipWcs.fromFitsHeader(h);
  for (const f of fitsFiles) wcsFromBytes(f, 'ok.fits');
  for (const d of calibDocs) PhotoCalib.fromJson(d);
  assert.ok(PhotoCalib.fromFitsHeader(fluxHeader).calibrationErr > 0);
  assert.equal(formatCard('NAXIS', 2, '', true).length, 80);
});
