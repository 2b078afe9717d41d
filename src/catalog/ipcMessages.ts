/**
 * The messages of an Arrow IPC stream in memory, by their framing alone
 * (continuation marker, metadata length, the Message flatbuffer's header
 * type and body length), so that streams encoded in parallel can be joined
 * into one: the first one's schema, everyone's batches, one end marker.
 */
import { ByteBuffer } from 'flatbuffers';

export type IpcMessageType = 'schema' | 'dictionary' | 'recordBatch' | 'other';

export interface IpcMessage {
  type: IpcMessageType;
  /** Byte range [start, end) of the whole message (framing, metadata and body). */
  start: number;
  end: number;
}

/** The stream's end marker: continuation, then a zero metadata length. */
export const IPC_END_OF_STREAM = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);

// MessageHeader union tags (Message.fbs).
const HEADER: Record<number, IpcMessageType> = { 1: 'schema', 2: 'dictionary', 3: 'recordBatch' };

/** Field `slot` of the root table's vtable, as an absolute position, or 0 when absent. */
function fieldAt(bb: ByteBuffer, root: number, slot: number): number {
  const vtable = root - bb.readInt32(root);
  const vtableBytes = bb.readInt16(vtable);
  const at = 4 + 2 * slot;
  const offset = at < vtableBytes ? bb.readInt16(vtable + at) : 0;
  return offset === 0 ? 0 : root + offset;
}

/** Messages up to the end marker (or the end of the bytes); RangeError when the framing is not an IPC stream's. */
export function ipcStreamMessages(bytes: Uint8Array): IpcMessage[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: IpcMessage[] = [];
  let o = 0;
  while (o + 8 <= bytes.length) {
    if (view.getInt32(o, true) !== -1) throw new RangeError(`IPC stream: no continuation marker at byte ${o}`);
    const metaLength = view.getInt32(o + 4, true);
    if (metaLength === 0) break;
    if (metaLength < 0 || o + 8 + metaLength > bytes.length) throw new RangeError(`IPC stream: message metadata of ${metaLength} bytes at ${o}`);
    const bb = new ByteBuffer(bytes.subarray(o + 8, o + 8 + metaLength));
    const root = bb.readInt32(0);
    // Message: version (slot 0), header_type (1), header (2), bodyLength (3).
    const typeAt = fieldAt(bb, root, 1);
    const bodyAt = fieldAt(bb, root, 3);
    const type = HEADER[typeAt === 0 ? 0 : bb.readUint8(typeAt)] ?? 'other';
    const body = bodyAt === 0 ? 0 : Number(bb.readInt64(bodyAt));
    const end = o + 8 + metaLength + body;
    if (!(body >= 0 && end <= bytes.length)) throw new RangeError(`IPC stream: message body of ${body} bytes at ${o} past the end`);
    out.push({ type, start: o, end });
    o = end;
  }
  return out;
}
