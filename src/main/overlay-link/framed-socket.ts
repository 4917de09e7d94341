// One TLS connection carrying length-prefixed frames: decodes inbound bytes, writes outbound
// frames respecting socket.write's back-pressure with a bounded queue, and reports the first
// reason the connection ended (a limit, a stream error, the remote closing, or a local close).
import type { TLSSocket } from 'node:tls';
import { describeDecodeError, encodeFrame, FrameDecoder } from './frame-codec.ts';

export type SendResult = { ok: true } | { ok: false; error: SendError };
export type SendError = 'no-address' | 'self' | 'too-large' | 'overloaded' | 'closed' | 'stopped';

export interface FramedSocketLimits {
  maxFrameBytes: number;
  /** Bytes allowed to wait in our queue while the socket's buffer is full. */
  maxQueuedBytes: number;
}

export interface FramedSocketHandlers {
  onFrame(bytes: Uint8Array): void;
  /** Called once. `abnormal` is true for limits and errors (worth a warning). */
  onClose(reason: string, abnormal: boolean): void;
}

/** Frames waiting to be written, with their total size bounded. */
export class BoundedFrameQueue {
  private items: Uint8Array[] = [];
  private size = 0;

  constructor(private readonly maxBytes: number) {}

  get bytes(): number {
    return this.size;
  }

  get length(): number {
    return this.items.length;
  }

  /** False (and nothing queued) when the frame would exceed the bound. */
  push(frame: Uint8Array): boolean {
    if (this.size + frame.length > this.maxBytes) return false;
    this.items.push(frame);
    this.size += frame.length;
    return true;
  }

  shift(): Uint8Array | undefined {
    const f = this.items.shift();
    if (f) this.size -= f.length;
    return f;
  }

  takeAll(): Uint8Array[] {
    const all = this.items;
    this.items = [];
    this.size = 0;
    return all;
  }
}

export class FramedSocket {
  private readonly decoder: FrameDecoder;
  private readonly queue: BoundedFrameQueue;
  /** True after socket.write returned false, until 'drain'. */
  private blocked = false;
  private closedReason: string | null = null;
  private corked = false;

  constructor(
    readonly socket: TLSSocket,
    private readonly limits: FramedSocketLimits,
    private handlers: FramedSocketHandlers,
  ) {
    this.decoder = new FrameDecoder(limits.maxFrameBytes);
    this.queue = new BoundedFrameQueue(limits.maxQueuedBytes);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.flush());
    socket.on('error', (err: NodeJS.ErrnoException) =>
      this.finish(`socket error: ${err.code ?? err.message}`, true),
    );
    socket.on('end', () => this.finish('remote closed the link', false));
    socket.on('close', (hadError: boolean) =>
      this.finish(hadError ? 'socket closed after an error' : 'socket closed', hadError),
    );
  }

  get closed(): boolean {
    return this.closedReason !== null;
  }

  /** Frames waiting for the socket to drain. */
  get queuedBytes(): number {
    return this.queue.bytes;
  }

  /** Everything written but not yet handed to the kernel: our queue plus the socket's buffer. */
  get pendingBytes(): number {
    return this.queue.bytes + this.socket.writableLength;
  }

  /** Redirects events (a dial in progress becomes a link with other handlers). */
  setHandlers(handlers: FramedSocketHandlers): void {
    this.handlers = handlers;
  }

  send(payload: Uint8Array): SendResult {
    if (this.closedReason !== null) return { ok: false, error: 'closed' };
    if (payload.length > this.limits.maxFrameBytes) return { ok: false, error: 'too-large' };
    if (this.blocked || this.queue.length > 0) {
      if (!this.queue.push(payload)) {
        this.close(`overloaded: ${this.queue.bytes} bytes queued, limit ${this.limits.maxQueuedBytes}`, true);
        return { ok: false, error: 'overloaded' };
      }
      return { ok: true };
    }
    this.write(payload);
    return { ok: true };
  }

  /** Closes with a reason; `abnormal` marks limits/protocol errors. Idempotent. */
  close(reason: string, abnormal = false): void {
    if (this.closedReason !== null) return;
    this.finish(reason, abnormal);
    this.socket.destroy();
  }

  /** Half-closes after the queued bytes (used to deliver a REJECT before hanging up). */
  endAfter(payload: Uint8Array, reason: string): void {
    if (this.closedReason !== null) return;
    this.write(payload);
    this.finish(reason, false);
    this.socket.end();
    // A peer that never reads must not hold the socket: destroy after a grace period.
    setTimeout(() => this.socket.destroy(), 2000).unref();
  }

  private write(payload: Uint8Array): void {
    // Frames sent in one tick leave as one writev (fewer TLS records and syscalls for small frames).
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    const parts = encodeFrame(payload);
    let ok = true;
    for (const p of parts) ok = this.socket.write(p);
    if (!ok) this.blocked = true;
  }

  private flush(): void {
    this.blocked = false;
    while (!this.blocked && this.closedReason === null) {
      const next = this.queue.shift();
      if (!next) break;
      this.write(next);
    }
  }

  private onData(chunk: Buffer): void {
    if (this.closedReason !== null) return;
    const r = this.decoder.push(chunk);
    if (!r.ok) {
      this.close(describeDecodeError(r.error), true);
      return;
    }
    for (const f of r.frames) {
      if (this.closedReason !== null) return;
      this.handlers.onFrame(f);
    }
  }

  private finish(reason: string, abnormal: boolean): void {
    if (this.closedReason !== null) return;
    this.closedReason = reason;
    this.queue.takeAll();
    this.handlers.onClose(reason, abnormal);
  }
}
