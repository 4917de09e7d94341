// Test fixtures: hand-built messages and a virtual clock that drives timer effects.
import type { Address } from '../../../src/core/net.ts';
import { createRequest, createResponse } from '../../../src/core/sip/build.ts';
import type { SipRequest, SipResponse, SipUri } from '../../../src/core/sip/message.ts';
import type { TransactionEffect, TransactionLayer } from '../../../src/core/sip/transaction/layer.ts';

export const UDP_PEER: Address = { transport: 'UDP', host: '192.0.2.2', port: 5060 };
export const TCP_PEER: Address = { transport: 'TCP', host: '192.0.2.2', port: 5060 };

export function sipUri(user: string | null, host: string, port: number | null = null): SipUri {
  return { scheme: 'sip', user, password: null, host, port, params: {}, headers: {} };
}

export function makeRequest(
  method: string,
  opts: { branch?: string | null; seq?: number; toTag?: string; transport?: string; sentBy?: string } = {},
): SipRequest {
  const params: Record<string, string | null> = {};
  if (opts.branch !== null) params.branch = opts.branch ?? 'z9hG4bKabc123';
  return createRequest({
    method,
    uri: sipUri('bob', 'biloxi.example.com'),
    from: { display: 'Alice', uri: sipUri('alice', 'atlanta.example.com'), params: { tag: 'fromtag1' } },
    to: {
      display: null,
      uri: sipUri('bob', 'biloxi.example.com'),
      params: opts.toTag ? { tag: opts.toTag } : {},
    },
    callId: 'call-1@atlanta',
    cseq: { seq: opts.seq ?? 1, method },
    via: {
      protocol: 'SIP/2.0',
      transport: opts.transport ?? 'UDP',
      host: opts.sentBy ?? '192.0.2.1',
      port: 5060,
      params,
    },
  });
}

export function respond(req: SipRequest, status: number, toTag = 'totag9'): SipResponse {
  return createResponse(req, status, undefined, { toTag });
}

/** Collects effects, keeps armed timers and fires them in time order. */
export class Harness {
  now = 0;
  readonly log: Array<TransactionEffect & { at: number }> = [];
  private readonly timers = new Map<string, number>();
  constructor(readonly layer: TransactionLayer) {}

  collect(): void {
    for (let e = this.layer.poll(); e; e = this.layer.poll()) {
      this.log.push({ ...e, at: this.now });
      if (e.type === 'set-timer') this.timers.set(e.id, e.at);
      if (e.type === 'cancel-timer') this.timers.delete(e.id);
    }
  }

  /** Advances the clock to `until`, firing every armed timer due on the way. */
  advance(until: number): void {
    this.collect();
    for (;;) {
      let next: [string, number] | undefined;
      for (const t of this.timers) if (t[1] <= until && (!next || t[1] < next[1])) next = t;
      if (!next) break;
      this.timers.delete(next[0]);
      this.now = next[1];
      this.layer.timerFired(next[0], this.now);
      this.collect();
    }
    this.now = until;
  }

  armed(): string[] {
    return [...this.timers.keys()];
  }

  of<T extends TransactionEffect['type']>(
    type: T,
  ): Array<Extract<TransactionEffect, { type: T }> & { at: number }> {
    return this.log.filter((e) => e.type === type) as Array<
      Extract<TransactionEffect, { type: T }> & { at: number }
    >;
  }

  transmitTimes(): number[] {
    return this.of('transmit').map((e) => e.at);
  }
}
