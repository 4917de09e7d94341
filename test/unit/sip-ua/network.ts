// A tiny in-process network for user-agent cores: messages travel through the real serializer and
// parser with a fixed latency; a drop rule can lose chosen datagrams; timers run on a virtual clock.
import { expect } from 'vitest';
import { type Address, addressKey } from '../../../src/core/net.ts';
import type { SipMessage, SipUri } from '../../../src/core/sip/message.ts';
import { parseMessage } from '../../../src/core/sip/parse.ts';
import { serializeMessage } from '../../../src/core/sip/serialize.ts';
import { UserAgentCore } from '../../../src/core/sip/ua/core.ts';
import type { Authenticator, UaConfig, UaEvent } from '../../../src/core/sip/ua/types.ts';

export interface Node {
  ua: UserAgentCore;
  addr: Address;
  uri: SipUri;
  events: Array<UaEvent & { at: number }>;
  timers: Map<string, number>;
}

export interface Sent {
  at: number;
  from: Address;
  to: Address;
  message: SipMessage;
  dropped: boolean;
}

export class Network {
  now = 0;
  latency = 5;
  readonly nodes = new Map<string, Node>();
  readonly sent: Sent[] = [];
  private inflight: Array<{ at: number; from: Address; to: Address; bytes: Uint8Array }> = [];
  /** Return true to lose this datagram. */
  drop: (m: SipMessage, from: Address, to: Address) => boolean = () => false;

  add(
    name: string,
    cfg: Partial<UaConfig> = {},
    auth: Authenticator | null = null,
    transport: 'UDP' | 'TCP' = 'UDP',
  ): Node {
    const host = `10.0.0.${this.nodes.size + 1}`;
    const config: UaConfig = {
      host,
      port: 5060,
      transport,
      user: name,
      userAgentName: 'PeerPBX-test',
      ...cfg,
    };
    let n = 0;
    const ua = new UserAgentCore(config, () => `${name}${(++n).toString(16).padStart(6, '0')}`, auth);
    const addr: Address = { transport, host, port: 5060 };
    const uri: SipUri = {
      scheme: 'sip',
      user: name,
      password: null,
      host,
      port: 5060,
      params: transport === 'TCP' ? { transport: 'tcp' } : {},
      headers: {},
    };
    const node: Node = { ua, addr, uri, events: [], timers: new Map() };
    this.nodes.set(addressKey(addr), node);
    return node;
  }

  /** Moves effects out of every UA: transmissions into the air, timers onto the clock. */
  collect(): void {
    for (const node of this.nodes.values()) {
      for (let e = node.ua.poll(); e; e = node.ua.poll()) {
        if (e.type === 'transmit') {
          const dropped = this.drop(e.message, node.addr, e.to);
          this.sent.push({ at: this.now, from: node.addr, to: e.to, message: e.message, dropped });
          if (!dropped)
            this.inflight.push({
              at: this.now + this.latency,
              from: node.addr,
              to: e.to,
              bytes: serializeMessage(e.message),
            });
        } else if (e.type === 'set-timer') node.timers.set(e.id, e.at);
        else if (e.type === 'cancel-timer') node.timers.delete(e.id);
        else node.events.push({ ...e, at: this.now });
      }
    }
  }

  /** Runs the network and clocks until `until` ms. */
  run(until: number): void {
    for (;;) {
      this.collect();
      let best: { at: number; go: () => void } | null = null;
      for (const m of this.inflight) {
        if (m.at <= until && (!best || m.at < best.at)) {
          best = {
            at: m.at,
            go: () => {
              this.inflight.splice(this.inflight.indexOf(m), 1);
              const node = this.nodes.get(addressKey(m.to));
              const parsed = parseMessage(m.bytes);
              expect(parsed.ok).toBe(true);
              if (node && parsed.ok) node.ua.receive(parsed.message, m.from, this.now);
            },
          };
        }
      }
      for (const node of this.nodes.values()) {
        for (const [id, at] of node.timers) {
          if (at <= until && (!best || at < best.at)) {
            best = {
              at,
              go: () => {
                node.timers.delete(id);
                node.ua.timerFired(id, this.now);
              },
            };
          }
        }
      }
      if (!best) break;
      this.now = Math.max(this.now, best.at);
      best.go();
    }
    this.now = Math.max(this.now, until);
  }

  /** Runs a command at the current time and collects its effects. */
  act(fn: (now: number) => void): void {
    fn(this.now);
    this.collect();
  }

  of<T extends UaEvent['type']>(node: Node, type: T): Array<Extract<UaEvent, { type: T }> & { at: number }> {
    return node.events.filter((e) => e.type === type) as Array<
      Extract<UaEvent, { type: T }> & { at: number }
    >;
  }

  /** Messages sent by `from` matching a predicate (requests by method, responses by status). */
  sentBy(from: Node, what: string | number): Sent[] {
    return this.sent.filter(
      (s) =>
        addressKey(s.from) === addressKey(from.addr) &&
        (typeof what === 'string'
          ? s.message.type === 'request' && s.message.method === what
          : s.message.type === 'response' && s.message.status === what),
    );
  }
}
