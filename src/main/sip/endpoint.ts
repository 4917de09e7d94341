// The I/O shell around the sans-IO SIP core: bytes from the transports are parsed, stamped with
// received/rport and fed to a machine (transaction layer or UA core); its effects become socket
// writes and real timers. Malformed requests are answered 400 (505 for a wrong version) when enough
// of them parsed to route a response, else dropped with a warning.
import { randomBytes } from 'node:crypto';
import { type Address, addressKey, type Millis } from '../../core/net.ts';
import type { SipMessage, SipRequest, SipResponse } from '../../core/sip/message.ts';
import { parseMessage, type SipParseError } from '../../core/sip/parse.ts';
import { serializeMessage } from '../../core/sip/serialize.ts';
import {
  type TimerConfig,
  type TimerEffect,
  type TransactionEffect,
  TransactionLayer,
  type TransmitEffect,
} from '../../core/sip/transaction/layer.ts';
import { createLogger, type Logger } from '../log.ts';
import type { InboundMessage, SendOptions } from '../transport/types.ts';
import { badRequestResponse } from './bad-request.ts';
import { stampVia } from './received.ts';
import { WarningBudget } from './warning-budget.ts';

/** Where the host writes bytes: SipTransports in production, anything in tests. */
export interface Sender {
  send(to: Address, data: Uint8Array, opts?: SendOptions): void;
}

/** What a sans-IO SIP machine (TransactionLayer, UserAgentCore) offers its host. */
export interface SansIoMachine<E> {
  receive(msg: SipMessage, from: Address, now: Millis): void;
  timerFired(id: string, now: Millis): void;
  /** A transmission of this transaction could not be delivered (RFC 3261 17.1.4, 17.2.4). */
  transportError(txId: string, now: Millis): void;
  poll(): E | undefined;
}

/** Effects every machine emits; everything else is an event for the application. */
type IoEffect = TransmitEffect | TimerEffect;
type AppEvent<E> = Exclude<E, IoEffect>;

export interface SipHostOptions {
  sender: Sender;
  log?: Logger;
  clock?: () => Millis;
  random?: () => string;
}

export const randomToken = (): string => randomBytes(8).toString('hex');

/**
 * Runs a sans-IO SIP machine on real I/O: parses what the transports deliver, answers what does
 * not parse, turns transmit effects into socket writes and timer effects into setTimeout.
 */
export class SipHost<E extends { type: string }> {
  readonly random: () => string;
  readonly clock: () => Millis;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  protected readonly log: Logger;
  private readonly warnings: WarningBudget;
  private handler: (event: AppEvent<E>) => void = () => {};
  private closed = false;
  /** Counters for tests and status. */
  readonly stats = { received: 0, malformed: 0, badRequestsAnswered: 0, sent: 0 };

  constructor(
    readonly machine: SansIoMachine<E>,
    private readonly opts: SipHostOptions,
  ) {
    this.clock = opts.clock ?? Date.now;
    this.random = opts.random ?? randomToken;
    this.log = opts.log ?? createLogger({ component: 'sip' });
    this.warnings = new WarningBudget(this.log, this.clock);
  }

  /** The application: gets every event that is not a transmission or a timer. */
  onEvent(handler: (event: AppEvent<E>) => void): void {
    this.handler = handler;
  }

  /** Entry point for the transports. */
  receive(inbound: InboundMessage): void {
    if (this.closed) return;
    this.stats.received++;
    const parsed = parseMessage(inbound.data);
    if (!parsed.ok) {
      this.malformed(parsed.error, inbound);
      return;
    }
    const msg = parsed.message;
    if (msg.type === 'request') {
      if (msg.via.length === 0) {
        this.warnings.warn('request without Via dropped', { from: fmt(inbound.from) });
        return;
      }
      stampVia(msg, inbound.from);
    }
    this.machine.receive(msg, inbound.from, this.clock());
    this.pump();
  }

  /** Runs an application command on the machine at the current time, then carries out its effects. */
  act<T>(command: (now: Millis) => T): T {
    const result = command(this.clock());
    this.pump();
    return result;
  }

  /** Drives the machine's effect queue: transmissions, timers and application events. */
  protected pump(): void {
    for (let e = this.machine.poll(); e; e = this.machine.poll()) {
      switch (e.type) {
        case 'transmit':
          this.transmit(e as unknown as TransmitEffect);
          break;
        case 'set-timer': {
          const t = e as unknown as { id: string; at: Millis };
          this.setTimer(t.id, t.at);
          break;
        }
        case 'cancel-timer':
          this.clearTimer((e as unknown as { id: string }).id);
          break;
        default:
          try {
            this.handler(e as AppEvent<E>);
          } catch (err) {
            this.log.error('application failed on SIP event', { event: e.type, err });
          }
      }
    }
  }

  private transmit({ to, message, txId }: TransmitEffect): void {
    if (this.closed) return;
    this.stats.sent++;
    const onError = txId
      ? (err: Error) => {
          if (this.closed) return;
          this.log.warn('transport error', { txId, to: fmt(to), err: err.message });
          this.machine.transportError(txId, this.clock());
          this.pump();
        }
      : undefined;
    this.opts.sender.send(to, serializeMessage(message), { onError, fallback: streamFallback(to, message) });
  }

  private setTimer(id: string, at: Millis): void {
    this.clearTimer(id);
    const t = setTimeout(
      () => {
        this.timers.delete(id);
        if (this.closed) return;
        this.machine.timerFired(id, this.clock());
        this.pump();
      },
      Math.max(0, at - this.clock()),
    );
    t.unref?.();
    this.timers.set(id, t);
  }

  private clearTimer(id: string): void {
    const t = this.timers.get(id);
    if (t) {
      clearTimeout(t);
      this.timers.delete(id);
    }
  }

  get activeTimers(): number {
    return this.timers.size;
  }

  private malformed(error: SipParseError, inbound: InboundMessage): void {
    this.stats.malformed++;
    const from = fmt(inbound.from);
    const response = badRequestResponse(error, inbound.from, inbound.data);
    if (!response) {
      this.warnings.warn('malformed message dropped', { from, code: error.code, reason: error.reason });
      return;
    }
    this.warnings.warn('malformed request answered', {
      from,
      code: error.code,
      reason: error.reason,
      status: response.res.status,
    });
    this.stats.badRequestsAnswered++;
    this.transmit({ type: 'transmit', to: response.to, message: response.res });
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.warnings.flush();
  }
}

/** A host for the bare transaction layer: the headless peer's stateless-ish responder runs on it. */
export class SipEndpoint extends SipHost<TransactionEffect> {
  readonly layer: TransactionLayer;

  constructor(opts: SipHostOptions & { timers?: Partial<TimerConfig> }) {
    const layer = new TransactionLayer(opts.timers);
    super(layer, opts);
    this.layer = layer;
  }

  sendRequest(request: SipRequest, to: Address): string {
    return this.act((now) => this.layer.sendRequest(request, to, now));
  }

  respond(txId: string, response: SipResponse): boolean {
    return this.act((now) => this.layer.sendResponse(txId, response, now));
  }

  /** ACK for 2xx, 2xx retransmissions: outside any transaction. */
  sendStateless(message: SipMessage, to: Address): void {
    this.act(() => this.layer.sendStateless(message, to));
  }
}

/**
 * RFC 3261 18.2.2: a response over a stream goes back on the request's connection; if that has
 * closed, to the Via's received address at its sent-by port.
 */
function streamFallback(to: Address, message: SipMessage): Address | undefined {
  if (to.transport === 'UDP' || message.type !== 'response') return undefined;
  const via = message.via[0];
  if (!via) return undefined;
  const received = via.params.received;
  const host = typeof received === 'string' && received ? received : via.host;
  return { transport: to.transport, host, port: via.port ?? (to.transport === 'TLS' ? 5061 : 5060) };
}

function fmt(a: Address): string {
  return addressKey(a);
}

/**
 * A stateless 400 (or 505) for a request that failed to parse, when the partial parse recovered
 * what a response needs (Via, From, To, Call-ID, CSeq). Never for ACK or responses (RFC 3261 17).
 */
