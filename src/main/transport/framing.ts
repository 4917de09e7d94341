// SIP message framing on a byte stream (RFC 3261 section 18.3): a message is its header block up to
// the first empty line (CRLFCRLF), then exactly Content-Length body bytes. Content-Length is
// mandatory on streams; without it the body is taken to be empty, as the RFC allows for no body.
//
// Pure: bytes in, whole messages (or a fatal framing error) out. The TCP transport owns the socket.

export type FrameError =
  | { code: 'too-large'; reason: string }
  | { code: 'bad-content-length'; reason: string }
  | { code: 'garbage'; reason: string };

export type FrameResult = { messages: Uint8Array[]; error?: FrameError };

export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024;

const CR = 13;
const LF = 10;

/** Index just past the first CRLFCRLF at or after `from`, or -1. */
function headerEnd(buf: Uint8Array, from: number): number {
  for (let i = from; i + 3 < buf.length; i++) {
    if (buf[i] === CR && buf[i + 1] === LF && buf[i + 2] === CR && buf[i + 3] === LF) return i + 4;
  }
  return -1;
}

/**
 * Finds Content-Length (or compact `l`) in a header block. Returns null when absent, NaN when present
 * but not a plain non-negative decimal, or when several disagree.
 */
export function contentLengthOf(head: string): number | null {
  let found: number | null = null;
  for (const line of head.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (name !== 'content-length' && name !== 'l') continue;
    const raw = line.slice(colon + 1).trim();
    if (!/^\d{1,10}$/.test(raw)) return Number.NaN;
    const n = Number(raw);
    if (found !== null && found !== n) return Number.NaN;
    found = n;
  }
  return found;
}

/** Accumulates stream bytes and yields complete SIP messages. One instance per connection. */
export class StreamFramer {
  private buf: Uint8Array = new Uint8Array(0);
  private failed = false;

  constructor(private readonly maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES) {}

  /** Bytes waiting for the rest of their message. */
  get buffered(): number {
    return this.buf.length;
  }

  push(chunk: Uint8Array): FrameResult {
    const messages: Uint8Array[] = [];
    if (this.failed) return { messages, error: { code: 'garbage', reason: 'stream already failed' } };
    this.buf = this.buf.length === 0 ? chunk : concat(this.buf, chunk);
    for (;;) {
      // Keepalives (RFC 5626 section 3.5.1): bare CRLFs between messages are skipped.
      let start = 0;
      while (start < this.buf.length && (this.buf[start] === CR || this.buf[start] === LF)) start++;
      if (start > 0) this.buf = this.buf.subarray(start);
      if (this.buf.length === 0) break;
      const end = headerEnd(this.buf, 0);
      if (end < 0) {
        if (this.buf.length > this.maxMessageBytes) {
          return this.fail(messages, 'too-large', `header block over ${this.maxMessageBytes} bytes`);
        }
        break;
      }
      const head = Buffer.from(this.buf.buffer, this.buf.byteOffset, end).toString('latin1');
      if (!/^[\x21-\x7e]/.test(head)) {
        return this.fail(messages, 'garbage', 'stream does not start with a SIP start line');
      }
      const len = contentLengthOf(head);
      if (len !== null && Number.isNaN(len)) {
        return this.fail(messages, 'bad-content-length', 'unparsable or conflicting Content-Length');
      }
      const total = end + (len ?? 0);
      if (total > this.maxMessageBytes) {
        return this.fail(messages, 'too-large', `message of ${total} bytes over ${this.maxMessageBytes}`);
      }
      if (this.buf.length < total) break;
      // Copy out so the message does not pin the whole receive buffer.
      messages.push(this.buf.slice(0, total));
      this.buf = this.buf.subarray(total);
    }
    // Do not keep a large backing buffer alive for a small tail.
    if (this.buf.length > 0 && this.buf.byteOffset > 0) this.buf = this.buf.slice();
    return { messages };
  }

  private fail(messages: Uint8Array[], code: FrameError['code'], reason: string): FrameResult {
    this.failed = true;
    this.buf = new Uint8Array(0);
    return { messages, error: { code, reason } };
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
