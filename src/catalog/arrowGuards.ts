/**
 * Bounds on the sizes Apache Arrow JS takes from a file, installed once on
 * import by every module that decodes Arrow IPC (ipc.ts, schemaOf.ts). The
 * fuzzer (test/catalog-fuzz.test.ts) found two ways a forged size field made
 * Arrow JS allocate without limit, each an out-of-memory crash of the process:
 */
import { ByteBuffer } from 'flatbuffers';
import { AsyncRandomAccessFile } from 'apache-arrow/io/file';

const installed = Symbol.for('skycal.arrowGuards');
const registry = globalThis as unknown as Record<symbol, boolean | undefined>;

if (registry[installed] !== true) {
  registry[installed] = true;

  /**
   * 1. A flatbuffer vector length (the schema's field count, a batch's
   * buffer count) is taken as it is: 2^30 fields in a 300-byte message made
   * 2^30 Field objects. Every element takes at least one byte, so a length
   * beyond the bytes after it is corrupt.
   */
  const vectorLen = ByteBuffer.prototype.__vector_len;
  ByteBuffer.prototype.__vector_len = function (this: ByteBuffer, offset: number): number {
    const n = vectorLen.call(this, offset);
    if (!(n >= 0 && n <= this.capacity() - offset)) throw new RangeError(`flatbuffer vector of ${n} elements in a ${this.capacity()}-byte message`);
    return n;
  };

  /**
   * 2. AsyncRandomAccessFile#readAt answers a read that reaches past the end
   * of the file with a fresh zeroed buffer of the requested size, so a forged
   * message or footer length of 4 GiB allocated 4 GiB. A read outside the
   * file is an error instead; a well-formed file never makes one.
   */
  const proto = AsyncRandomAccessFile.prototype as unknown as {
    readAt(this: { size: number; _pending?: Promise<void> }, position: number, nBytes: number): Promise<Uint8Array>;
  };
  const readAt = proto.readAt;
  proto.readAt = async function (position, nBytes) {
    if (this._pending) await this._pending;
    if (!(Number.isSafeInteger(position) && Number.isSafeInteger(nBytes) && position >= 0 && nBytes >= 0 && position + nBytes <= this.size)) {
      throw new RangeError(`a read of ${nBytes} bytes at ${position} lies outside the ${this.size}-byte file`);
    }
    return readAt.call(this, position, nBytes);
  };
}
