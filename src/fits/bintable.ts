/**
 * Writing a FITS binary table extension (FITS Standard 4.0, §7.3) with scalar
 * numeric columns: J (int32), K (int64 as a safe integer), E (float32),
 * D (float64). Big-endian, rows packed, data padded to 2880 bytes with zeros.
 */
import { errors } from '../errors.js';
import { BLOCK_LENGTH, cardsToBlocks, formatCard } from './header.js';

export interface BinTableColumn {
  readonly name: string;
  readonly format: 'J' | 'K' | 'E' | 'D';
  readonly values: ArrayLike<number>;
  readonly unit?: string;
}

const WIDTH = { J: 4, K: 8, E: 4, D: 8 } as const;

export function writeBinTable(columns: readonly BinTableColumn[], options: { extname?: string; cards?: readonly string[] } = {}): Uint8Array {
  const rows = columns[0]?.values.length ?? 0;
  for (const c of columns) {
    if (c.values.length !== rows) throw errors.badInput('binary table', `column ${c.name} has ${c.values.length} rows, expected ${rows}`);
  }
  const rowBytes = columns.reduce((s, c) => s + WIDTH[c.format], 0);
  const cards = [
    formatCard('XTENSION', 'BINTABLE', 'binary table extension'),
    formatCard('BITPIX', 8, '', true),
    formatCard('NAXIS', 2, '', true),
    formatCard('NAXIS1', rowBytes, 'bytes per row', true),
    formatCard('NAXIS2', rows, 'rows', true),
    formatCard('PCOUNT', 0, '', true),
    formatCard('GCOUNT', 1, '', true),
    formatCard('TFIELDS', columns.length, '', true),
    ...columns.flatMap((c, i) => [
      formatCard(`TTYPE${i + 1}`, c.name),
      formatCard(`TFORM${i + 1}`, `1${c.format}`),
      ...(c.unit ? [formatCard(`TUNIT${i + 1}`, c.unit)] : []),
    ]),
    ...(options.extname ? [formatCard('EXTNAME', options.extname)] : []),
    ...(options.cards ?? []),
  ];
  const header = new TextEncoder().encode(cardsToBlocks(cards));
  const dataLength = rowBytes * rows;
  const out = new Uint8Array(header.length + Math.ceil(dataLength / BLOCK_LENGTH) * BLOCK_LENGTH);
  out.set(header);
  const view = new DataView(out.buffer, header.length, dataLength);
  let off = 0;
  for (let r = 0; r < rows; r++) {
    for (const c of columns) {
      const v = c.values[r]!;
      switch (c.format) {
        case 'J': view.setInt32(off, v); break;
        case 'K': view.setBigInt64(off, BigInt(Math.trunc(v))); break;
        case 'E': view.setFloat32(off, v); break;
        case 'D': view.setFloat64(off, v); break;
      }
      off += WIDTH[c.format];
    }
  }
  return out;
}
