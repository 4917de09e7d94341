// An in-process network for sans-IO SIP machines (UA cores, the PBX proxy): every message goes
// through the real serializer and parser, with a fixed latency, on a virtual clock.
import { expect } from 'vitest';
import { type Address, addressKey } from '../../../src/core/net.ts';
import type { SipMessage, SipUri } from '../../../src/core/sip/message.ts';
import { parseMessage } from '../../../src/core/sip/parse.ts';
import { serializeMessage } from '../../../src/core/sip/serialize.ts';
import { UserAgentCore } from '../../../src/core/sip/ua/core.ts';
import type { Authenticator, UaConfig } from '../../../src/core/sip/ua/types.ts';

export interface Machine {
  receive(msg: SipMessage, from: Address, now: number): void;
  timerFired(id: string, now: number): void;
  poll(): { type: string } | undefined;
}

export interface SimNode<M extends Machine = Machine> {
  name: string;
  machine: M;
  addr: Address;
  events: Array<{ type: string; at: number; [k: string]: unknown }>;
  timers: Map<string, number>;
  /** Called for every app event right when it is produced (e.g. to answer a call). */
  onEvent?: (e: { type: string; [k: string]: unknown }) => void;
}

export interface Sent {
  at: number;
  from: string;
  to: Address;
  message: SipMessage;
}

export class Sim {
  now = 0;
  latency = 2;
  readonly nodes = new Map<string, SimNode>();
  readonly sent: Sent[] = [];
  private inflight: Array<{ at: number; from: Address; to: Address; bytes: Uint8Array }> = [];
  private tasks: Array<{ at: number; fn: (now: number) => void }> = [];
  /** Return true to lose a datagram. */
  drop: (m: SipMessage, from: Address, to: Address) => boolean = () => false;

  add<M extends Machine>(name: string, machine: M, addr: Address): SimNode<M> {
    const node: SimNode<M> = { name, machine, addr, events: [], timers: new Map() };
    this.nodes.set(addressKey(addr), node as SimNode);
    return node;
  }

  /** A UserAgentCore phone at 10.0.0.<n>:5060. */
  phone(
    name: string,
    n: number,
    cfg: Partial<UaConfig> = {},
    auth: Authenticator | null = null,
  ): SimNode<UserAgentCore> & { uri: SipUri } {
    const host = `10.0.0.${n}`;
    let k = 0;
    const ua = new UserAgentCore(
      { host, port: 5060, transport: 'UDP', user: name, ...cfg },
      () => `${name}${(++k).toString(16).padStart(6, '0')}`,
      auth,
    );
    const node = this.add(name, ua, { transport: 'UDP', host, port: 5060 });
    const uri: SipUri = {
      scheme: 'sip',
      user: name,
      password: null,
      host,
      port: 5060,
      params: {},
      headers: {},
    };
    return Object.assign(node, { uri });
  }

  collect(): void {
    let again = true;
    while (again) {
      again = false;
      for (const node of this.nodes.values()) {
        for (let e = node.machine.poll(); e; e = node.machine.poll()) {
          again = true;
          const x = e as { type: string; to?: Address; message?: SipMessage; id?: string; at?: number };
          if (x.type === 'transmit' && x.to && x.message) {
            this.sent.push({ at: this.now, from: node.name, to: x.to, message: x.message });
            if (!this.drop(x.message, node.addr, x.to)) {
              this.inflight.push({
                at: this.now + this.latency,
                from: node.addr,
                to: x.to,
                bytes: serializeMessage(x.message),
              });
            }
          } else if (x.type === 'set-timer' && x.id && x.at !== undefined) node.timers.set(x.id, x.at);
          else if (x.type === 'cancel-timer' && x.id) node.timers.delete(x.id);
          else {
            node.events.push({ ...(e as { type: string }), at: this.now });
            node.onEvent?.(e as { type: string });
          }
        }
      }
    }
  }

  /** Runs messages and timers until `until` ms (virtual). */
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
              if (node && parsed.ok) node.machine.receive(parsed.message, m.from, this.now);
            },
          };
        }
      }
      for (const t of this.tasks) {
        if (t.at <= until && (!best || t.at < best.at)) {
          best = {
            at: t.at,
            go: () => {
              this.tasks.splice(this.tasks.indexOf(t), 1);
              t.fn(this.now);
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
                node.machine.timerFired(id, this.now);
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

  /** Runs `fn` at virtual time `at` (e.g. a phone answering after ringing). */
  at(at: number, fn: (now: number) => void): void {
    this.tasks.push({ at, fn });
  }

  act(fn: (now: number) => void): void {
    fn(this.now);
    this.collect();
  }

  eventsOf(node: SimNode, type: string): Array<{ type: string; at: number; [k: string]: unknown }> {
    return node.events.filter((e) => e.type === type);
  }

  /** Messages sent by a node: requests by method, responses by status. */
  sentBy(node: SimNode, what: string | number): Sent[] {
    return this.sent.filter(
      (s) =>
        s.from === node.name &&
        (typeof what === 'string'
          ? s.message.type === 'request' && s.message.method === what
          : s.message.type === 'response' && s.message.status === what),
    );
  }
}
