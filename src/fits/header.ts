/**
 * FITS header cards: parsing and writing (FITS Standard 4.0, §4).
 *
 * Accepts the forms users hand us: 2880-byte blocks with no line breaks,
 * one 80-character card per line (shorter lines are right-padded, as
 * astropy's `Header.fromstring(sep='\n')` does), or a list of card strings.
 * Values are parsed eagerly but failures are kept per card, so a junk card
 * that nobody reads does not reject a real header; reading it throws an error
 * that names the keyword.
 */
import { errors } from '../errors.js';

export const CARD_LENGTH = 80;
export const BLOCK_LENGTH = 2880;

export type CardValue = string | number | boolean | null;

export interface Card {
  /** Keyword, upper case, trimmed ('' for blank cards). */
  readonly key: string;
  /** Parsed value; null for commentary cards and undefined values. */
  readonly value: CardValue;
  /** Why the value could not be parsed, when it could not. */
  readonly invalid?: string;
  readonly comment: string;
  /** 1-based position in the header, for error messages. */
  readonly index: number;
  readonly raw: string;
  /** No value indicator ("= " in columns 9-10): a commentary-style card, which never shadows a valued one. */
  readonly commentary?: true;
}

const COMMENTARY = new Set(['COMMENT', 'HISTORY', '']);

/** Split header text into 80-character card images, stopping after END. */
export function splitCards(text: string): string[] {
  const images: string[] = [];
  const lines = text.includes('\n') ? text.split('\n') : [text];
  for (let line of lines) {
    if (line.endsWith('\r')) line = line.slice(0, -1);
    // A line longer than a card is a block stream (or several cards glued).
    for (let i = 0; i < Math.max(line.length, 1); i += CARD_LENGTH) {
      const image = line.slice(i, i + CARD_LENGTH).padEnd(CARD_LENGTH, ' ');
      if (image.trim() === '' && line.length === 0) continue; // blank line between cards
      images.push(image);
      if (image.startsWith('END') && image.slice(3).trim() === '') return images;
    }
  }
  return images;
}

/** Parse one card image. `index` is its 1-based position, used in messages. */
export function parseCard(image: string, index: number): Card {
  if (/[^\x20-\x7e]/.test(image)) {
    throw errors.badInput(`FITS header card ${index}`, `contains characters outside printable ASCII: ${JSON.stringify(image.trimEnd())}`);
  }
  let key = image.slice(0, 8).trim().toUpperCase();
  let rest: string;
  if (key === 'HIERARCH') {
    const eq = image.indexOf('=');
    if (eq < 0) return { key: 'HIERARCH', value: null, comment: image.slice(8).trim(), index, raw: image, commentary: true };
    key = image.slice(8, eq).trim().toUpperCase();
    rest = image.slice(eq + 1);
  } else if (image.slice(8, 10) === '= ' && !COMMENTARY.has(key)) {
    rest = image.slice(10);
  } else {
    return { key, value: null, comment: image.slice(8).trimEnd(), index, raw: image, commentary: true };
  }
  if (!/^[A-Z0-9_\- .]*$/.test(key)) {
    throw errors.badInput(`FITS header card ${index}`, `illegal keyword ${JSON.stringify(key)}`);
  }
  return { key, ...parseValue(rest), index, raw: image };
}

function parseValue(field: string): { value: CardValue; comment: string; invalid?: string } {
  const s = field.trimStart();
  if (s.startsWith("'")) {
    let out = '';
    let i = 1;
    for (;;) {
      if (i >= s.length) return { value: null, comment: '', invalid: `unterminated string ${s.trimEnd()}` };
      const c = s[i]!;
      if (c === "'") {
        if (s[i + 1] === "'") {
          out += "'";
          i += 2;
          continue;
        }
        break;
      }
      out += c;
      i++;
    }
    const after = s.slice(i + 1);
    const slash = after.indexOf('/');
    const junk = (slash < 0 ? after : after.slice(0, slash)).trim();
    if (junk !== '') return { value: null, comment: '', invalid: `text after the closing quote: ${junk}` };
    // Trailing spaces in a string value are not significant; leading ones are.
    return { value: out.replace(/ +$/, ''), comment: slash < 0 ? '' : after.slice(slash + 1).trim() };
  }
  const slash = s.indexOf('/');
  const text = (slash < 0 ? s : s.slice(0, slash)).trim();
  const comment = slash < 0 ? '' : s.slice(slash + 1).trim();
  if (text === '') return { value: null, comment }; // undefined value
  if (text === 'T') return { value: true, comment };
  if (text === 'F') return { value: false, comment };
  if (/^[+-]?(\d+\.?\d*|\.\d+)([EeDd][+-]?\d+)?$/.test(text)) {
    return { value: Number(text.replace(/[Dd]/, 'E')), comment };
  }
  return { value: null, comment, invalid: `cannot parse value ${JSON.stringify(text)}` };
}

/** An immutable parsed header. Later duplicates of a keyword win, as in astropy. */
export class FitsHeader {
  readonly cards: readonly Card[];
  private readonly byKey: ReadonlyMap<string, Card>;

  private constructor(cards: Card[]) {
    this.cards = cards;
    const map = new Map<string, Card>();
    // A card without "= " (e.g. the 11-letter `FLUXMAG0ERR= 1.0`, keyword FLUXMAG0 in FITS terms) has no
    // value: as in astropy, it does not replace a valued card of the same keyword.
    for (const c of cards) {
      if (COMMENTARY.has(c.key) || c.key === 'END') continue;
      if (c.commentary && map.has(c.key)) continue;
      if (!c.commentary && map.get(c.key)?.commentary) map.delete(c.key);
      map.set(c.key, c);
    }
    this.byKey = map;
  }

  /** From header text (blocks or lines) or a list of card strings. */
  static parse(input: string | readonly string[]): FitsHeader {
    const images = typeof input === 'string' ? splitCards(input) : input.flatMap((c) => splitCards(c));
    const cards: Card[] = [];
    images.forEach((image, i) => {
      const card = parseCard(image, i + 1);
      if (card.key !== 'END') cards.push(card);
    });
    return new FitsHeader(cards);
  }

  static fromCards(cards: Card[]): FitsHeader {
    return new FitsHeader(cards);
  }

  has(key: string): boolean {
    return this.byKey.has(key);
  }

  keys(): IterableIterator<string> {
    return this.byKey.keys();
  }

  card(key: string): Card | undefined {
    return this.byKey.get(key);
  }

  /** The raw value, or undefined when absent. Throws BAD_INPUT when the card's value is malformed. */
  get(key: string): CardValue | undefined {
    const c = this.byKey.get(key);
    if (c === undefined) return undefined;
    if (c.invalid !== undefined) {
      throw errors.badInput(`FITS header card ${c.index} (${key})`, c.invalid);
    }
    return c.value;
  }

  /** A finite number, or `fallback` when absent; anything else is BAD_INPUT naming the keyword. */
  getNumber(key: string, fallback?: number): number {
    const v = this.get(key);
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      throw errors.badInput('FITS header', `missing required keyword ${key}`);
    }
    if (typeof v !== 'number') {
      throw errors.badInput(`FITS header keyword ${key}`, `expected a number, got ${JSON.stringify(v)}`);
    }
    if (!Number.isFinite(v)) {
      throw errors.badInput(`FITS header keyword ${key}`, 'value is not finite');
    }
    return v;
  }

  getOptionalNumber(key: string): number | undefined {
    return this.has(key) && this.get(key) !== null ? this.getNumber(key) : undefined;
  }

  getString(key: string, fallback?: string): string {
    const v = this.get(key);
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      throw errors.badInput('FITS header', `missing required keyword ${key}`);
    }
    if (typeof v !== 'string') {
      throw errors.badInput(`FITS header keyword ${key}`, `expected a string, got ${JSON.stringify(v)}`);
    }
    return v;
  }
}

// ---------------------------------------------------------------------------
// Writing

/** A real number as FITS text that reads back to the same double. */
export function formatReal(v: number): string {
  if (!Number.isFinite(v)) throw errors.badInput('FITS card', `cannot write non-finite value ${v}`);
  if (Object.is(v, -0)) return '-0.0'; // String(-0) is '0'; keep the sign so the double reads back exactly
  let s = String(v).toUpperCase(); // shortest round-trip representation
  if (!/[.E]/.test(s)) s += '.0';
  return s;
}

function formatValue(value: CardValue, integer: boolean): string {
  if (value === null) return '';
  if (typeof value === 'boolean') return (value ? 'T' : 'F').padStart(20);
  if (typeof value === 'number') {
    const s = integer && Number.isInteger(value) ? String(value) : formatReal(value);
    return s.padStart(20);
  }
  const quoted = `'${value.replace(/'/g, "''").padEnd(8)}'`;
  return quoted.padEnd(20);
}

/**
 * One 80-character card. Numbers are written as reals unless `integer` is set
 * (NAXISn, BITPIX, A_ORDER...), so that a real keyword stays real on reading.
 */
export function formatCard(key: string, value: CardValue, comment = '', integer = false): string {
  if (key.length > 8) throw errors.badInput(`FITS keyword ${key}`, 'longer than 8 characters');
  let card = `${key.padEnd(8)}= ${formatValue(value, integer)}`;
  if (card.length > CARD_LENGTH) {
    throw errors.badInput(`FITS card ${key}`, 'value does not fit in one card');
  }
  if (comment !== '') card += ` / ${comment}`;
  return card.slice(0, CARD_LENGTH).padEnd(CARD_LENGTH);
}

export function formatCommentary(key: 'COMMENT' | 'HISTORY' | '', text: string): string {
  return `${key.padEnd(8)}${text}`.slice(0, CARD_LENGTH).padEnd(CARD_LENGTH);
}

export const END_CARD = 'END'.padEnd(CARD_LENGTH);

/** Cards as text, one per line, ending with END (the form of test/data/wcs-headers). */
export function cardsToText(cards: readonly string[]): string {
  return [...cards, END_CARD].join('\n') + '\n';
}

/** Cards as a FITS header unit: 2880-byte blocks padded with spaces. */
export function cardsToBlocks(cards: readonly string[]): string {
  const s = [...cards, END_CARD].join('');
  return s.padEnd(Math.ceil(s.length / BLOCK_LENGTH) * BLOCK_LENGTH, ' ');
}
