// How the renderer reaches the engine. In Electron the preload exposes `window.peerpbx` (the Engine
// contract over IPC); in a browser served by the headless peer, the WebSocket bridge at /api with the
// token from the page's `#token=` fragment. Either way every reply and event is validated against the
// contract before the UI sees it; anything else is dropped and reported on the console.

import { encodeAudioFrame, parseAudioFrame } from '../core/api/audio-frame.ts';
import {
  type ApiFailure,
  type Command,
  type CommandType,
  type EngineEvent,
  eventSchema,
  type Reply,
  replySchema,
} from '../core/api/contract.ts';
import type { Engine, EngineAudio, EventHandler, SpeakerListener } from '../core/api/engine.ts';
import { CLOSE_AUTH_TIMEOUT, CLOSE_UNAUTHORIZED, parseServerMessage } from '../core/api/wire.ts';

export type ConnectionState = 'connecting' | 'ready' | 'unauthorized' | 'disconnected';

export interface Transport extends Engine {
  readonly state: ConnectionState;
  readonly audio: EngineAudio;
  onState(handler: (s: ConnectionState) => void): () => void;
}

/** Above this much unsent data a microphone frame is dropped: late audio is worse than a gap. */
const MAX_AUDIO_BACKLOG = 64 * 1024;
/** The message Electron's preload posts to the page with the audio MessagePort (see preload.ts). */
export const AUDIO_PORT_MESSAGE = 'peerpbx:audio-port';

/** Speaker frames from raw bytes: validated, then handed to every listener. */
class SpeakerFrames {
  private readonly listeners = new Listeners<[string, number, Int16Array]>();
  private invalid = 0;
  add(l: SpeakerListener): () => void {
    return this.listeners.add(([id, rate, pcm]) => l(id, rate, pcm));
  }
  receive(data: ArrayBuffer | Uint8Array): void {
    const f = parseAudioFrame(data instanceof Uint8Array ? data : new Uint8Array(data), 'speaker');
    if (f.ok) this.listeners.emit([f.frame.callId, f.frame.sampleRate, f.frame.samples]);
    else if (this.invalid++ < 5) console.error('invalid audio frame from the engine', f.error);
  }
}

const micFrame = (callId: string, sampleRate: number, samples: Int16Array) =>
  encodeAudioFrame({ kind: 'microphone', callId, sampleRate, samples });

/** What Electron's preload puts on `window` (untrusted shapes: validated here). */
interface PreloadApi {
  command(cmd: unknown): Promise<unknown>;
  on(handler: (event: unknown) => void): () => void;
}

const unreachable = (message: string): ApiFailure => ({ ok: false, error: 'unreachable', message });
const invalidReply = (message: string): ApiFailure => ({ ok: false, error: 'invalid', message });

class Listeners<T> {
  private readonly set = new Set<(v: T) => void>();
  add(h: (v: T) => void): () => void {
    this.set.add(h);
    return () => this.set.delete(h);
  }
  emit(v: T): void {
    for (const h of [...this.set]) h(v);
  }
}

export class IpcTransport implements Transport {
  readonly state: ConnectionState = 'ready';
  private port: MessagePort | null = null;
  private readonly speaker = new SpeakerFrames();
  readonly audio: EngineAudio = {
    microphone: (callId, rate, samples) => {
      const bytes = micFrame(callId, rate, samples);
      this.port?.postMessage(bytes.buffer, [bytes.buffer]);
    },
    onSpeaker: (l) => this.speaker.add(l),
  };

  constructor(
    private readonly api: PreloadApi,
    win?: Pick<Window, 'addEventListener'>,
  ) {
    // The preload hands over the audio MessagePort once main created it (same-origin message).
    win?.addEventListener('message', (e: MessageEvent) => {
      if (e.data !== AUDIO_PORT_MESSAGE || !e.ports[0]) return;
      this.port = e.ports[0];
      this.port.onmessage = (m: MessageEvent) => {
        if (m.data instanceof ArrayBuffer || m.data instanceof Uint8Array) this.speaker.receive(m.data);
      };
      this.port.start();
    });
  }

  async command<C extends Command>(cmd: C): Promise<Reply<C['type']>> {
    let raw: unknown;
    try {
      raw = await this.api.command(cmd);
    } catch (err) {
      return unreachable(String(err));
    }
    const r = replySchema(cmd.type).parse(raw);
    if (!r.ok) console.error('invalid reply from the engine', r.error);
    return r.ok ? (r.value as Reply<C['type']>) : invalidReply(r.error);
  }

  on(handler: EventHandler): () => void {
    return this.api.on((raw) => {
      const e = eventSchema.parse(raw);
      if (e.ok) handler(e.value);
      else console.error('invalid event from the engine', e.error);
    });
  }

  onState(): () => void {
    return () => {};
  }
}

interface Pending {
  type: CommandType;
  resolve: (r: Reply<CommandType> | ApiFailure) => void;
}

export class WebSocketTransport implements Transport {
  state: ConnectionState = 'connecting';
  private ws: WebSocket | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** Commands issued before the socket was ready: sent once it is. */
  private queue: { id: number; cmd: Command }[] = [];
  private readonly events = new Listeners<EngineEvent>();
  private readonly states = new Listeners<ConnectionState>();
  private retryMs = 500;
  private readonly speaker = new SpeakerFrames();
  readonly audio: EngineAudio = {
    microphone: (callId, rate, samples) => {
      const ws = this.ws;
      if (this.state !== 'ready' || !ws || ws.bufferedAmount > MAX_AUDIO_BACKLOG) return;
      ws.send(micFrame(callId, rate, samples));
    },
    onSpeaker: (l) => this.speaker.add(l),
  };

  constructor(
    private readonly url: string,
    private readonly token: string | null,
  ) {
    this.connect();
  }

  private setState(s: ConnectionState): void {
    this.state = s;
    this.states.emit(s);
  }

  private connect(): void {
    if (!this.token) {
      this.setState('unauthorized');
      return;
    }
    this.setState('connecting');
    const ws = new WebSocket(this.url);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    ws.onopen = () => ws.send(JSON.stringify({ kind: 'auth', token: this.token }));
    ws.onmessage = (ev) => {
      if (ev.data instanceof ArrayBuffer) this.speaker.receive(ev.data);
      else this.receive(typeof ev.data === 'string' ? ev.data : '');
    };
    ws.onclose = (ev) => {
      this.ws = null;
      for (const [, p] of this.pending) p.resolve(unreachable('connection to the peer lost'));
      this.pending.clear();
      this.queue = [];
      if (ev.code === CLOSE_UNAUTHORIZED || ev.code === CLOSE_AUTH_TIMEOUT)
        return this.setState('unauthorized');
      this.setState('disconnected');
      // The peer restarts or the machine sleeps: keep trying, at most every 5 s.
      setTimeout(() => this.connect(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 5000);
    };
  }

  private receive(text: string): void {
    const m = parseServerMessage(text, (id) => this.pending.get(id)?.type);
    if (!m.ok) {
      console.error('invalid message from the peer', m.error);
      return;
    }
    const msg = m.value;
    if (msg.kind === 'ready') {
      this.retryMs = 500;
      this.setState('ready');
      const q = this.queue;
      this.queue = [];
      for (const { id, cmd } of q) this.ws?.send(JSON.stringify({ kind: 'command', id, command: cmd }));
    } else if (msg.kind === 'event') {
      this.events.emit(msg.event);
    } else if (msg.id !== null) {
      const p = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      p?.resolve(msg.reply);
    } else {
      console.error('the peer could not read a command', msg.reply);
    }
  }

  command<C extends Command>(cmd: C): Promise<Reply<C['type']>> {
    if (this.state === 'unauthorized')
      return Promise.resolve(unreachable('not authorized: open the link the peer printed'));
    // While reconnecting, answer at once: a button must not hang on a peer that is gone.
    if (this.state === 'disconnected') return Promise.resolve(unreachable('reconnecting to the peer'));
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, { type: cmd.type, resolve: resolve as Pending['resolve'] });
      if (this.state === 'ready' && this.ws)
        this.ws.send(JSON.stringify({ kind: 'command', id, command: cmd }));
      else this.queue.push({ id, cmd });
    });
  }

  on(handler: EventHandler): () => void {
    return this.events.add(handler);
  }

  onState(handler: (s: ConnectionState) => void): () => void {
    return this.states.add(handler);
  }
}

/** Takes the token from `#token=...` once, keeps it for reloads of this tab, and clears the URL. */
export function takeTokenFromLocation(loc: Location, store: Storage, history: History): string | null {
  const m = /(?:^#|&)token=([^&]+)/.exec(loc.hash);
  if (m) {
    const token = decodeURIComponent(m[1]);
    store.setItem('peerpbx.token', token);
    history.replaceState(null, '', loc.pathname + loc.search);
    return token;
  }
  return store.getItem('peerpbx.token');
}

export function createTransport(): Transport {
  const preload = (window as unknown as { peerpbx?: PreloadApi }).peerpbx;
  if (preload) return new IpcTransport(preload, window);
  const token = takeTokenFromLocation(window.location, window.sessionStorage, window.history);
  return new WebSocketTransport(`ws://${window.location.host}/api`, token);
}
