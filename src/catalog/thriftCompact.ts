/**
 * The Thrift compact protocol, as Parquet footers use it, decoded into a
 * tree that keeps every field's id and wire type, so that a footer can be
 * edited (offsets shifted, row groups merged) and written back without a
 * schema: fields this code does not know about travel through unchanged.
 * Spec: https://github.com/apache/thrift/blob/master/doc/specs/thrift-compact-protocol.md
 */
import { ByteWriter } from './byteWriter.js';

/** Wire types (booleans as fields are types 1/2; here both are BOOL). */
export const T = { BOOL: 1, BYTE: 3, I16: 4, I32: 5, I64: 6, DOUBLE: 7, BINARY: 8, LIST: 9, SET: 10, MAP: 11, STRUCT: 12 } as const;

export interface TField {
  id: number;
  type: number;
  value: TValue;
}
export type TStruct = TField[];
export interface TList {
  elemType: number;
  items: TValue[];
}
export interface TMap {
  keyType: number;
  valueType: number;
  entries: [TValue, TValue][];
}
export type TValue = boolean | number | bigint | Uint8Array | TList | TMap | TStruct;

class Reader {
  pos = 0;
  constructor(private readonly bytes: Uint8Array) {}

  byte(): number {
    if (this.pos >= this.bytes.length) throw new RangeError('thrift: unexpected end of data');
    return this.bytes[this.pos++]!;
  }

  varint(): number {
    let result = 0;
    let mult = 1;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * mult;
      if ((b & 0x80) === 0) return result;
      mult *= 128;
      if (mult > 2 ** 49) throw new RangeError('thrift: varint too long for a 32-bit value');
    }
  }

  varint64(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = this.byte();
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 70n) throw new RangeError('thrift: varint too long');
    }
  }

  zigzag(): number {
    const n = this.varint();
    return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
  }

  zigzag64(): bigint {
    const n = this.varint64();
    return (n >> 1n) ^ -(n & 1n);
  }

  value(type: number): TValue {
    switch (type) {
      case T.BOOL:
        return this.byte() === 1;
      case T.BYTE: {
        const b = this.byte();
        return b > 127 ? b - 256 : b;
      }
      case T.I16:
      case T.I32:
        return this.zigzag();
      case T.I64:
        return this.zigzag64();
      case T.DOUBLE: {
        if (this.pos + 8 > this.bytes.length) throw new RangeError('thrift: unexpected end of data');
        const v = new DataView(this.bytes.buffer, this.bytes.byteOffset + this.pos, 8).getFloat64(0, true);
        this.pos += 8;
        return v;
      }
      case T.BINARY: {
        const n = this.varint();
        if (this.pos + n > this.bytes.length) throw new RangeError('thrift: unexpected end of data');
        const v = this.bytes.slice(this.pos, this.pos + n);
        this.pos += n;
        return v;
      }
      case T.LIST:
      case T.SET: {
        const header = this.byte();
        const size = header >> 4 === 15 ? this.varint() : header >> 4;
        const elemType = header & 0x0f;
        const items: TValue[] = [];
        // In lists a boolean is a whole byte (1 true, 2 false).
        for (let i = 0; i < size; i++) items.push(elemType === T.BOOL || elemType === 2 ? this.byte() === 1 : this.value(elemType));
        return { elemType: elemType === 2 ? T.BOOL : elemType, items };
      }
      case T.MAP: {
        const size = this.varint();
        if (size === 0) return { keyType: 0, valueType: 0, entries: [] };
        const kv = this.byte();
        const keyType = kv >> 4;
        const valueType = kv & 0x0f;
        const entries: [TValue, TValue][] = [];
        for (let i = 0; i < size; i++) entries.push([this.value(keyType), this.value(valueType)]);
        return { keyType, valueType, entries };
      }
      case T.STRUCT:
        return this.struct();
      default:
        throw new RangeError(`thrift: unknown wire type ${type}`);
    }
  }

  struct(): TStruct {
    const fields: TStruct = [];
    let last = 0;
    for (;;) {
      const header = this.byte();
      if (header === 0) return fields;
      const wire = header & 0x0f;
      const delta = header >> 4;
      const id = delta === 0 ? this.zigzag() : last + delta;
      last = id;
      if (wire === 1 || wire === 2) fields.push({ id, type: T.BOOL, value: wire === 1 });
      else fields.push({ id, type: wire, value: this.value(wire) });
    }
  }
}

/** Decode one struct from `bytes` (e.g. a Parquet FileMetaData). */
export function decodeStruct(bytes: Uint8Array): TStruct {
  return new Reader(bytes).struct();
}

class Writer extends ByteWriter {
  constructor() {
    super(1024);
  }

  varint64(n: bigint): void {
    while (n >= 0x80n) {
      this.byte(Number(n & 0x7fn) | 0x80);
      n >>= 7n;
    }
    this.byte(Number(n));
  }

  zigzag(n: number): void {
    this.varint(n >= 0 ? n * 2 : -n * 2 - 1);
  }

  zigzag64(n: bigint): void {
    this.varint64(n >= 0n ? n << 1n : (-n << 1n) - 1n);
  }

  value(type: number, v: TValue): void {
    switch (type) {
      case T.BOOL:
        this.byte(v ? 1 : 2);
        return;
      case T.BYTE:
        this.byte(v as number);
        return;
      case T.I16:
      case T.I32:
        this.zigzag(v as number);
        return;
      case T.I64:
        this.zigzag64(BigInt(v as bigint | number));
        return;
      case T.DOUBLE: {
        const b = new Uint8Array(8);
        new DataView(b.buffer).setFloat64(0, v as number, true);
        this.raw(b);
        return;
      }
      case T.BINARY: {
        const b = v as Uint8Array;
        this.varint(b.length);
        this.raw(b);
        return;
      }
      case T.LIST:
      case T.SET: {
        const { elemType, items } = v as TList;
        if (items.length < 15) this.byte((items.length << 4) | elemType);
        else {
          this.byte(0xf0 | elemType);
          this.varint(items.length);
        }
        for (const item of items) this.value(elemType, item);
        return;
      }
      case T.MAP: {
        const { keyType, valueType, entries } = v as TMap;
        this.varint(entries.length);
        if (entries.length === 0) return;
        this.byte((keyType << 4) | valueType);
        for (const [k, val] of entries) {
          this.value(keyType, k);
          this.value(valueType, val);
        }
        return;
      }
      case T.STRUCT:
        this.struct(v as TStruct);
        return;
      default:
        throw new RangeError(`thrift: unknown wire type ${type}`);
    }
  }

  struct(fields: TStruct): void {
    let last = 0;
    // Field ids must be written in increasing order for the short (delta) form.
    for (const f of [...fields].sort((a, b) => a.id - b.id)) {
      const wire = f.type === T.BOOL ? (f.value ? 1 : 2) : f.type;
      const delta = f.id - last;
      if (delta > 0 && delta <= 15) this.byte((delta << 4) | wire);
      else {
        this.byte(wire);
        this.zigzag(f.id);
      }
      last = f.id;
      if (f.type !== T.BOOL) this.value(f.type, f.value);
    }
    this.byte(0);
  }

}

export function encodeStruct(fields: TStruct): Uint8Array {
  const w = new Writer();
  w.struct(fields);
  return w.bytes();
}

/** The field `id` of a struct, or undefined. */
export function field(s: TStruct, id: number): TField | undefined {
  return s.find((f) => f.id === id);
}

/** A copy of `s` with field `id` set (added or replaced). */
export function withField(s: TStruct, id: number, type: number, value: TValue): TStruct {
  return [...s.filter((f) => f.id !== id), { id, type, value }];
}

/** A copy of `s` without the fields `ids`. */
export function withoutFields(s: TStruct, ids: readonly number[]): TStruct {
  return s.filter((f) => !ids.includes(f.id));
}
