// Length-prefixed framing on a byte stream: 4-byte big-endian length, then that many payload bytes.
// The payload is opaque here (the overlay's frame codec lives in src/core/overlay). The decoder
// keeps received chunks in a list and copies only when a frame spans chunks, so a 5 MB frame over
// many TLS records costs one copy and a stream of small frames is mostly zero-copy subarrays.

export const FRAME_HEADER_BYTES = 4;
export const DEFAULT_MAX_FRAME_BYTES = 8 * 1024 * 1024;
/** Payloads below this are copied behind their header into one write; larger ones go as two writes. */
const COALESCE_LIMIT = 64 * 1024;

export type FrameDecodeError = { kind: 'too-large'; length: number; max: number };

export type FrameDecodeResult = { ok: true; frames: Uint8Array[] } | { ok: false; error: FrameDecodeError };

export function describeDecodeError(e: FrameDecodeError): string {
  return `frame length ${e.length} exceeds maximum ${e.max}`;
}

export class FrameDecoder {
  private chunks: Uint8Array[] = [];
  /** Read offset into chunks[0]. */
  private head = 0;
  private buffered = 0;
  /** Payload length of the frame being read, or -1 while waiting for a header. */
  private need = -1;
  private failure: FrameDecodeError | null = null;

  constructor(private readonly maxFrameBytes: number = DEFAULT_MAX_FRAME_BYTES) {}

  /** Bytes received but not yet returned as frames. */
  get pendingBytes(): number {
    return this.buffered;
  }

  push(chunk: Uint8Array): FrameDecodeResult {
    // Once the stream is out of sync nothing after it can be trusted: stay failed.
    if (this.failure) return { ok: false, error: this.failure };
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const frames: Uint8Array[] = [];
    for (;;) {
      if (this.need < 0) {
        if (this.buffered < FRAME_HEADER_BYTES) break;
        const h = this.take(FRAME_HEADER_BYTES);
        const length = ((h[0] << 24) >>> 0) + (h[1] << 16) + (h[2] << 8) + h[3];
        if (length > this.maxFrameBytes) {
          this.failure = { kind: 'too-large', length, max: this.maxFrameBytes };
          this.chunks = [];
          this.buffered = 0;
          return { ok: false, error: this.failure };
        }
        this.need = length;
      }
      if (this.buffered < this.need) break;
      frames.push(this.take(this.need));
      this.need = -1;
    }
    return { ok: true, frames };
  }

  /** Removes n buffered bytes (n <= buffered). */
  private take(n: number): Uint8Array {
    this.buffered -= n;
    const first = this.chunks[0];
    if (first === undefined) return new Uint8Array(0);
    const avail = first.length - this.head;
    if (avail >= n) {
      const out = first.subarray(this.head, this.head + n);
      this.head += n;
      if (this.head === first.length) {
        this.chunks.shift();
        this.head = 0;
      }
      return out;
    }
    const out = new Uint8Array(n);
    let filled = 0;
    let used = 0;
    while (filled < n) {
      const c = this.chunks[used];
      const start = used === 0 ? this.head : 0;
      const count = Math.min(c.length - start, n - filled);
      out.set(c.subarray(start, start + count), filled);
      filled += count;
      if (start + count === c.length) {
        used++;
        this.head = 0;
      } else {
        this.head = start + count;
      }
    }
    this.chunks.splice(0, used);
    return out;
  }
}

/** The bytes to write for one frame: one buffer for small payloads, header + payload for large. */
export function encodeFrame(payload: Uint8Array): Uint8Array[] {
  if (payload.length < COALESCE_LIMIT) {
    const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
    out.writeUInt32BE(payload.length, 0);
    out.set(payload, FRAME_HEADER_BYTES);
    return [out];
  }
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  header.writeUInt32BE(payload.length, 0);
  return [header, payload];
}
