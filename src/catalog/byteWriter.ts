/**
 * A growable little-endian byte buffer: what the Thrift compact encoder
 * (thriftCompact.ts) and the Parquet page writer (parquetWrite.ts) write
 * headers, levels and indices into. Doubles its room as it fills.
 */
export class ByteWriter {
  protected buf: Uint8Array;
  length = 0;

  constructor(initialBytes = 256) {
    this.buf = new Uint8Array(initialBytes);
  }

  protected room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  byte(b: number): void {
    this.room(1);
    this.buf[this.length++] = b & 0xff;
  }

  /** Unsigned LEB128 (Thrift and Parquet's ULEB128) of a non-negative integer below 2^53. */
  varint(n: number): void {
    while (n >= 0x80) {
      this.byte((n % 128) | 0x80);
      n = Math.floor(n / 128);
    }
    this.byte(n);
  }

  uint32(n: number): void {
    this.room(4);
    new DataView(this.buf.buffer).setUint32(this.length, n, true);
    this.length += 4;
  }

  raw(bytes: Uint8Array): void {
    this.room(bytes.length);
    this.buf.set(bytes, this.length);
    this.length += bytes.length;
  }

  /** The bytes written so far, without a copy (valid until the next write). */
  view(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }

  /** A copy of the bytes written so far. */
  bytes(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}
