import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { FitsHeader, cardsToBlocks, cardsToText, formatCard, formatReal } from '../src/fits/header.js';
import { readHdus } from '../src/fits/file.js';
import { SkycalError } from '../src/errors.js';
import { wcsHeaderDir } from './helpers.js';

test('every shared real header parses, and reads the same from lines and from 2880-byte blocks', () => {
  const files = readdirSync(wcsHeaderDir).filter((f) => f.endsWith('.hdr'));
  assert.equal(files.length, 6);
  for (const f of files) {
    const text = readFileSync(join(wcsHeaderDir, f), 'latin1');
    const h = FitsHeader.parse(text);
    assert.equal(typeof h.getNumber('CRPIX1'), 'number', f);
    const blocks = cardsToBlocks(h.cards.map((c) => c.raw));
    assert.equal(blocks.length % 2880, 0);
    const h2 = FitsHeader.parse(blocks);
    assert.deepEqual([...h2.keys()], [...h.keys()], f);
    for (const k of h.keys()) assert.deepEqual(h2.card(k)!.value, h.card(k)!.value, `${f} ${k}`);
  }
});

test('values: strings with quotes, logicals, integers, D exponents, comments', () => {
  const h = FitsHeader.parse([
    "CTYPE1  = 'RA---TAN-SIP'       / TAN with SIP",
    "OBJECT  = 'O''Brien '",
    'SIMPLE  =                    T',
    'A_ORDER =                    3 / order',
    'CD1_1   =   -1.2345678901234D-04',
    'BLANKV  =                      / undefined',
    'COMMENT this = not a value',
  ]);
  assert.equal(h.getString('CTYPE1'), 'RA---TAN-SIP');
  assert.equal(h.card('CTYPE1')!.comment, 'TAN with SIP');
  assert.equal(h.getString('OBJECT'), "O'Brien");
  assert.equal(h.get('SIMPLE'), true);
  assert.equal(h.getNumber('A_ORDER'), 3);
  assert.equal(h.getNumber('CD1_1'), -1.2345678901234e-4);
  assert.equal(h.get('BLANKV'), null);
  assert.equal(h.has('COMMENT'), false);
});

test('a malformed value is an error naming the keyword only when it is read', () => {
  const h = FitsHeader.parse(['CRPIX1  = 12.3.4', 'JUNK    = what is this', 'CRPIX2  = 5.0']);
  assert.equal(h.getNumber('CRPIX2'), 5);
  assert.throws(() => h.getNumber('CRPIX1'), (e: SkycalError) => e.code === 'BAD_INPUT' && /CRPIX1/.test(e.message));
  assert.throws(() => h.get('JUNK'), (e: SkycalError) => e.code === 'BAD_INPUT' && /JUNK/.test(e.message));
  assert.throws(() => h.getNumber('CRVAL1'), (e: SkycalError) => /missing required keyword CRVAL1/.test(e.message));
  assert.throws(() => FitsHeader.parse(['CRPIX1  = 1\u00e9']), (e: SkycalError) => e.code === 'BAD_INPUT' && /card 1/.test(e.message));
});

test('formatReal then parse returns the same double, for every finite double', () => {
  fc.assert(
    fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (v) => {
      const h = FitsHeader.parse([formatCard('X', v)]);
      const back = h.getNumber('X');
      return Object.is(back, v) || (v === 0 && back === 0);
    }),
    { numRuns: 2000 },
  );
  assert.throws(() => formatReal(NaN), /non-finite/);
});

test('string values round trip through formatCard, quotes included', () => {
  fc.assert(
    fc.property(fc.stringMatching(/^[ -~]{0,60}$/), (s) => {
      const card = formatCard('S', s);
      if (card.length !== 80) return false;
      return FitsHeader.parse([card]).getString('S', '') === s.replace(/ +$/, '');
    }),
  );
});

test('a FITS file with two HDUs: headers, data offsets, and truncation is an error', () => {
  const primary = cardsToBlocks([formatCard('SIMPLE', true), formatCard('BITPIX', 8, '', true), formatCard('NAXIS', 0, '', true), formatCard('EXTEND', true)]);
  const ext = cardsToBlocks([
    formatCard('XTENSION', 'IMAGE'),
    formatCard('BITPIX', -32, '', true),
    formatCard('NAXIS', 2, '', true),
    formatCard('NAXIS1', 3, '', true),
    formatCard('NAXIS2', 2, '', true),
    formatCard('PCOUNT', 0, '', true),
    formatCard('GCOUNT', 1, '', true),
  ]);
  const data = new Uint8Array(2880);
  const bytes = new Uint8Array(Buffer.concat([Buffer.from(primary, 'latin1'), Buffer.from(ext, 'latin1'), data]));
  const hdus = readHdus(bytes, 't.fits');
  assert.equal(hdus.length, 2);
  assert.equal(hdus[1]!.dataOffset, 2 * 2880);
  assert.equal(hdus[1]!.dataLength, 24);
  assert.throws(() => readHdus(bytes.subarray(0, 2 * 2880 + 10), 't.fits'), /truncated/);
  assert.throws(() => readHdus(new TextEncoder().encode('hello'), 'x.txt'), /not a FITS file/);
  assert.match(cardsToText([formatCard('A', 1)]), /^A       = +1\.0\s*\nEND/);
});
