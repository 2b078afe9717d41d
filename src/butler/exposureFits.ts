/**
 * One self-contained FITS file for a composite Exposure (calexp): the image
 * in the primary HDU with the TAN-SIP cards in its header and the
 * calibration as keywords, plus, when the calibration varies over the image,
 * a binary table extension `PHOTOCAL` holding its coefficients. astropy and
 * ds9 read the primary HDU's WCS directly.
 *
 * Calibration keywords: PHOTCALM (calibrationMean, nJy per count), PHOTCALE
 * (its error), MAGZERO (AB zero point for counts: mag = MAGZERO - 2.5 log10
 * counts, i.e. 31.4 - 2.5 log10 PHOTCALM). The table has one row per
 * coefficient: FACTOR (index in a product; 0 otherwise), FTYPE (0 constant,
 * 1 Chebyshev), XPOW, YPOW, COEFF; the bbox (inclusive, parent pixels) is in
 * its header as BBMINX, BBMINY, BBMAXX, BBMAXY.
 */
import { errors } from '../errors.js';
import { formatCard, formatCommentary, splitCards } from '../fits/header.js';
import { TanSipWcs } from '../wcs/index.js';
import { readImage, writeImage } from '../fits/image.js';
import { writeBinTable } from '../fits/bintable.js';
import type { Supplied } from './adapter.js';

/** Header keys that describe the HDU structure, not the WCS: never copied from a stored WCS header. */
const STRUCTURAL = /^(SIMPLE|BITPIX|NAXIS\d*|EXTEND|XTENSION|PCOUNT|GCOUNT|BSCALE|BZERO|BLANK|EXTNAME|END|CHECKSUM|DATASUM)$/;

/** WCS cards for a FITS header, written by the WCS model itself (always -SIP and every A/B/AP/BP term). */
export function wcsCards(headerText: string): string[] {
  return splitCards(TanSipWcs.fromFitsHeader(headerText).toFitsHeader()).filter((c) => !/^END\s*$/.test(c) && !STRUCTURAL.test(c.slice(0, 8).trim()));
}

interface Field { type: string; value?: number; bbox?: { minX: number; minY: number; maxX: number; maxY: number }; coefficients?: number[][]; factors?: Field[] }

export function writeExposureFits(
  parts: { image: Uint8Array; wcs?: string; photoCalib?: unknown },
  supplied: Record<string, Supplied>,
): Uint8Array {
  const image = readImage(parts.image, undefined, 'calexp.image');
  const cards: string[] = [];
  if (parts.wcs !== undefined) cards.push(...wcsCards(parts.wcs));
  const pc = parts.photoCalib as { calibrationMean: number; calibrationErr: number; isConstant?: boolean; field?: Field } | undefined;
  let table: Uint8Array | undefined;
  if (pc !== undefined) {
    cards.push(
      formatCard('BUNIT', 'count', 'pixel values are instrumental counts'),
      formatCard('PHOTCALM', pc.calibrationMean, 'calibrationMean [nJy/count]'),
      formatCard('PHOTCALE', pc.calibrationErr, 'calibrationErr [nJy/count]'),
      formatCard('MAGZERO', 31.4 - 2.5 * Math.log10(pc.calibrationMean), 'AB mag = MAGZERO - 2.5 log10(counts)'),
    );
    const field = pc.field;
    if (field !== undefined && field.type !== 'constant' && pc.isConstant !== true) {
      cards.push(formatCard('PHOTCALV', true, 'spatially varying: see the PHOTOCAL extension'));
      table = fieldTable(field);
    }
  }
  const runKeys: Record<string, string> = { image: 'RUNIMAGE', wcs: 'RUNWCS', photoCalib: 'RUNPCAL' };
  for (const [comp, s] of Object.entries(supplied)) {
    const key = runKeys[comp];
    if (key) cards.push(formatCard(key, s.runId, `${comp} from run of stage ${s.stage}`.slice(0, 47)));
  }
  cards.push(formatCommentary('COMMENT', 'Written by skycal from a calexp composite (image + wcs + photoCalib).'));
  const primary = writeImage(image, { cards });
  if (table === undefined) return primary;
  const out = new Uint8Array(primary.length + table.length);
  out.set(primary);
  out.set(table, primary.length);
  return out;
}

function fieldTable(field: Field): Uint8Array {
  const factors = field.type === 'product' ? field.factors ?? [] : [field];
  const rows = { FACTOR: [] as number[], FTYPE: [] as number[], XPOW: [] as number[], YPOW: [] as number[], COEFF: [] as number[] };
  let bbox: Field['bbox'];
  factors.forEach((f, i) => {
    if (f.type === 'constant') {
      rows.FACTOR.push(i); rows.FTYPE.push(0); rows.XPOW.push(0); rows.YPOW.push(0); rows.COEFF.push(f.value!);
    } else if (f.type === 'chebyshev') {
      bbox = f.bbox;
      f.coefficients!.forEach((row, y) => row.forEach((c, x) => {
        rows.FACTOR.push(i); rows.FTYPE.push(1); rows.XPOW.push(x); rows.YPOW.push(y); rows.COEFF.push(c);
      }));
    } else {
      throw errors.badInput('photoCalib', `cannot write field type ${f.type} as a table`);
    }
  });
  return writeBinTable(
    [
      { name: 'FACTOR', format: 'J', values: rows.FACTOR },
      { name: 'FTYPE', format: 'J', values: rows.FTYPE },
      { name: 'XPOW', format: 'J', values: rows.XPOW },
      { name: 'YPOW', format: 'J', values: rows.YPOW },
      { name: 'COEFF', format: 'D', values: rows.COEFF },
    ],
    {
      extname: 'PHOTOCAL',
      cards: [
        formatCard('PCTYPE', field.type, 'BoundedField type'),
        ...(bbox ? [formatCard('BBMINX', bbox.minX, '', true), formatCard('BBMINY', bbox.minY, '', true),
          formatCard('BBMAXX', bbox.maxX, '', true), formatCard('BBMAXY', bbox.maxY, '', true)] : []),
        formatCommentary('COMMENT', 'c(x,y) = product over FACTOR of sum COEFF T_XPOW(x\') T_YPOW(y\') (Chebyshev, bbox -> [-1,1])'),
      ],
    },
  );
}
