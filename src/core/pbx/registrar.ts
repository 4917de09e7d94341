// Registrar for desk phones (RFC 3261 section 10.3) with digest authentication (stateless nonces,
// so a restarted peer still accepts the nonces it issued). Bindings live per AoR (extension) with
// their expiry and are reaped by timer effects; every change of an AoR's bindings yields an intent
// for the coordinator: publish the AoR in the overlay with this gateway peer as contact, or remove it.

import type { Address, TransportName } from '../net.ts';
import type { NodeId } from '../records/types.ts';
import { createResponse } from '../sip/build.ts';
import { createChallenge, type DigestAlgorithm, verifyAuthorization } from '../sip/digest.ts';
import { createNonce, NonceCountTracker, nonceChecker } from '../sip/digest-nonce.ts';
import {
  getHeader,
  getHeaders,
  type Header,
  type NameAddr,
  type SipRequest,
  type SipResponse,
} from '../sip/message.ts';
import { parseNameAddrList } from '../sip/parse.ts';
import { serializeNameAddr, serializeUri } from '../sip/serialize.ts';
import type { RegistrationContact } from './registration-record.ts';

export interface DeskPhoneAccount {
  extension: string;
  /** Either the password or HA1 = MD5(extension:realm:password). */
  password?: string;
  ha1?: string;
  displayName?: string;
}

export interface RegistrarConfig {
  realm: string;
  nonceSecret: Uint8Array | string;
  /** A nonce older than this is stale (the phone retries silently with stale=TRUE). Default 5 min. */
  nonceMaxAgeMs?: number;
  /** Seconds. Defaults 60 / 3600 / 3600. */
  minExpires?: number;
  maxExpires?: number;
  defaultExpires?: number;
  accounts: (extension: string) => DeskPhoneAccount | undefined;
  /** This gateway peer: published as the contact of its desk phones. */
  gateway: { nodeId: NodeId; host: string; port: number; transport: TransportName };
}

export interface Binding {
  aor: string;
  contact: NameAddr;
  /** Comparison key of the contact URI (scheme, user, host, port). */
  key: string;
  expiresAt: number;
  callId: string;
  cseq: number;
  q: number;
  instance?: string;
  /** Where the REGISTER came from: requests to the phone go there (works behind NAT). */
  source: Address;
}

export type RegistrarEffect =
  | { type: 'publish'; aor: string; contacts: RegistrationContact[]; displayName?: string }
  | { type: 'unpublish'; aor: string }
  | { type: 'set-timer'; id: string; at: number }
  | { type: 'cancel-timer'; id: string }
  | { type: 'warning'; message: string; context: Record<string, unknown> };

const SUPPORTED_EXTENSIONS: ReadonlySet<string> = new Set(['path', 'outbound', 'gruu']);

function contactKey(c: NameAddr): string {
  const u = c.uri;
  return `${u.scheme}:${(u.user ?? '').toLowerCase()}@${u.host.toLowerCase()}:${u.port ?? ''}`;
}

function sameAddress(a: Address, b: Address): boolean {
  return a.transport === b.transport && a.host === b.host && a.port === b.port;
}

export class Registrar {
  private readonly byAor = new Map<string, Binding[]>();
  private readonly armed = new Map<string, number>();
  private readonly out: RegistrarEffect[] = [];
  /** nc replay protection for qop credentials (stateless nonces are otherwise reusable until stale). */
  private readonly ncTracker = new NonceCountTracker();
  private readonly min: number;
  private readonly max: number;
  private readonly dflt: number;

  constructor(private readonly cfg: RegistrarConfig) {
    this.min = cfg.minExpires ?? 60;
    this.max = cfg.maxExpires ?? 3600;
    this.dflt = cfg.defaultExpires ?? 3600;
  }

  poll(): RegistrarEffect | undefined {
    return this.out.shift();
  }

  drain(): RegistrarEffect[] {
    return this.out.splice(0);
  }

  /** Live bindings of an AoR, most preferred (highest q) first. */
  bindings(aor: string, now: number): Binding[] {
    return (this.byAor.get(aor) ?? []).filter((b) => b.expiresAt > now).sort((a, b) => b.q - a.q);
  }

  /** The binding a request came from (a desk phone of this gateway), if any. */
  bindingFromSource(source: Address, now: number): Binding | undefined {
    for (const list of this.byAor.values()) {
      const b = list.find((x) => x.expiresAt > now && sameAddress(x.source, source));
      if (b) return b;
    }
    return undefined;
  }

  /** The binding whose contact URI a Request-URI names (in-dialog requests to a desk phone). */
  bindingForContact(uri: NameAddr['uri'], now: number): Binding | undefined {
    const key = contactKey({ display: null, uri, params: {} });
    for (const list of this.byAor.values()) {
      const b = list.find((x) => x.expiresAt > now && x.key === key);
      if (b) return b;
    }
    return undefined;
  }

  get size(): number {
    let n = 0;
    for (const l of this.byAor.values()) n += l.length;
    return n;
  }

  /** Handles a REGISTER; returns the final response to send on its server transaction. */
  handleRegister(req: SipRequest, source: Address, now: number, salt: Uint8Array): SipResponse {
    // Step 2: extensions the registrar does not understand.
    const unsupported = getHeaders(req, 'Require')
      .flatMap((v) => v.split(','))
      .map((s) => s.trim())
      .filter((s) => s && !SUPPORTED_EXTENSIONS.has(s.toLowerCase()));
    if (unsupported.length > 0) {
      return createResponse(req, 420, undefined, {
        headers: [{ name: 'Unsupported', value: unsupported.join(', ') }],
      });
    }
    // Step 3: authenticate; the authenticated user must own the AoR (step 4/5).
    const auth = this.authenticate(req, source, now, salt);
    if (auth.response) return auth.response;
    const aor = req.to.uri.user ?? '';
    const account = this.cfg.accounts(aor);
    if (!account) return createResponse(req, 404);
    if (auth.username !== aor) {
      this.warn('REGISTER for another user refused', { user: auth.username, aor, source });
      return createResponse(req, 403);
    }
    const outcome = this.updateBindings(req, aor, source, now);
    if (outcome) return outcome;
    return this.okResponse(req, aor, now);
  }

  timerFired(id: string, now: number): void {
    if (!id.startsWith('reg/')) return;
    const aor = id.slice(4);
    this.armed.delete(aor);
    this.changed(aor, now);
  }

  /** Drops every binding (shutdown); the caller tombstones the published records. */
  clear(now: number): void {
    for (const aor of [...this.byAor.keys()]) {
      this.byAor.set(aor, []);
      this.changed(aor, now);
    }
  }

  // --- steps ------------------------------------------------------------------------------------

  /**
   * Digest-authenticates a request as one of the accounts: REGISTER with 401/WWW-Authenticate,
   * anything else a desk phone sends through the proxy with 407/Proxy-Authenticate. Returns the
   * authenticated user, or the response to send (challenge, 403 or 400).
   */
  authenticate(
    req: SipRequest,
    source: Address,
    now: number,
    salt: Uint8Array,
  ): { response: SipResponse; username?: undefined } | { response?: undefined; username: string } {
    const proxy = req.method !== 'REGISTER';
    const header = getHeader(req, proxy ? 'Proxy-Authorization' : 'Authorization');
    const challenge = (stale: boolean): { response: SipResponse } => {
      const nonce = createNonce({ secret: this.cfg.nonceSecret, realm: this.cfg.realm }, now, salt);
      const value = createChallenge({ realm: this.cfg.realm, nonce, algorithm: 'MD5', stale });
      const name = proxy ? 'Proxy-Authenticate' : 'WWW-Authenticate';
      return { response: createResponse(req, proxy ? 407 : 401, undefined, { headers: [{ name, value }] }) };
    };
    if (header === undefined) return challenge(false);
    const r = verifyAuthorization(
      header,
      {
        method: req.method,
        realm: this.cfg.realm,
        body: req.body,
        lookupHa1: (user, _realm, alg: DigestAlgorithm) => {
          const a = this.cfg.accounts(user);
          return a?.ha1 !== undefined && alg.startsWith('MD5') ? a.ha1 : undefined;
        },
        lookupPassword: (user) => this.cfg.accounts(user)?.password,
        ncTracker: this.ncTracker,
      },
      nonceChecker(
        { secret: this.cfg.nonceSecret, realm: this.cfg.realm },
        now,
        this.cfg.nonceMaxAgeMs ?? 300_000,
      ),
    );
    if (r.ok) return { username: r.username };
    switch (r.reason) {
      case 'stale':
        return challenge(true);
      case 'invalid-nonce':
      case 'realm-mismatch':
      case 'replay':
        // A replayed nonce count may be an honest phone that reused a nonce: a fresh nonce fixes it.
        return challenge(false);
      case 'malformed':
        return { response: createResponse(req, 400, 'Malformed Authorization') };
      default:
        // Wrong password or unknown user: one answer for both, so accounts cannot be probed.
        this.warn(`${req.method} authentication failed`, { reason: r.reason, user: r.username, source });
        return { response: createResponse(req, 403) };
    }
  }

  private parseContacts(req: SipRequest): { star: boolean; contacts: NameAddr[] } | null {
    const values = getHeaders(req, 'Contact');
    if (values.some((v) => v.trim() === '*')) {
      return values.length === 1 ? { star: true, contacts: [] } : null;
    }
    const contacts: NameAddr[] = [];
    for (const v of values) {
      const list = parseNameAddrList(v);
      if (!list) return null;
      contacts.push(...list);
    }
    return { star: false, contacts };
  }

  /** Steps 6-8; returns an error response, or null when the bindings were updated. */
  private updateBindings(req: SipRequest, aor: string, source: Address, now: number): SipResponse | null {
    const parsed = this.parseContacts(req);
    if (!parsed) return createResponse(req, 400, 'Bad Contact');
    const expiresHeader = getHeader(req, 'Expires');
    const headerSecs =
      expiresHeader !== undefined && /^\s*\d+\s*$/.test(expiresHeader) ? Number(expiresHeader) : null;
    const current = this.bindings(aor, now);
    if (parsed.star) {
      // 10.3 step 6: "*" is only valid with Expires: 0; remove all unless a binding is newer.
      if (headerSecs !== 0) return createResponse(req, 400, 'Wildcard Contact Needs Expires 0');
      if (current.some((b) => b.callId === req.callId && b.cseq >= req.cseq.seq)) {
        return createResponse(req, 500, 'Out of Order REGISTER');
      }
      this.byAor.set(aor, []);
      this.changed(aor, now);
      return null;
    }
    const updates: Array<{ c: NameAddr; secs: number }> = [];
    for (const c of parsed.contacts) {
      const p = c.params.expires;
      const secs = typeof p === 'string' && /^\d+$/.test(p) ? Number(p) : (headerSecs ?? this.dflt);
      if (secs > 0 && secs < this.min) {
        return createResponse(req, 423, undefined, {
          headers: [{ name: 'Min-Expires', value: String(this.min) }],
        });
      }
      updates.push({ c, secs: Math.min(secs, this.max) });
    }
    const next = [...current];
    for (const { c, secs } of updates) {
      const key = contactKey(c);
      const i = next.findIndex((b) => b.key === key);
      const old = i >= 0 ? next[i] : undefined;
      // Step 7: same Call-ID with a CSeq that is not higher is an out-of-order request.
      if (old && old.callId === req.callId && req.cseq.seq <= old.cseq) {
        return createResponse(req, 500, 'Out of Order REGISTER');
      }
      if (i >= 0) next.splice(i, 1);
      if (secs === 0) continue;
      const q = typeof c.params.q === 'string' ? Number(c.params.q) : 1;
      const instance = c.params['+sip.instance'];
      next.push({
        aor,
        contact: { display: null, uri: c.uri, params: {} },
        key,
        expiresAt: now + secs * 1000,
        callId: req.callId,
        cseq: req.cseq.seq,
        q: Number.isFinite(q) && q >= 0 && q <= 1 ? q : 1,
        instance: typeof instance === 'string' ? instance.replace(/^"|"$/g, '') : undefined,
        source: { ...source },
      });
    }
    this.byAor.set(aor, next);
    if (updates.length > 0) this.changed(aor, now);
    return null;
  }

  private okResponse(req: SipRequest, aor: string, now: number): SipResponse {
    const headers: Header[] = this.bindings(aor, now).map((b) => ({
      name: 'Contact',
      value: serializeNameAddr({
        display: null,
        uri: b.contact.uri,
        params: { expires: String(Math.max(0, Math.round((b.expiresAt - now) / 1000))) },
      }),
    }));
    return createResponse(req, 200, undefined, { headers });
  }

  /** Re-arms the reaper and tells the coordinator what the overlay should now hold for `aor`. */
  private changed(aor: string, now: number): void {
    const live = this.bindings(aor, now);
    const timerId = `reg/${aor}`;
    if (live.length === 0) {
      this.byAor.delete(aor);
      if (this.armed.delete(aor)) this.out.push({ type: 'cancel-timer', id: timerId });
      this.out.push({ type: 'unpublish', aor });
      return;
    }
    this.byAor.set(aor, live);
    const first = Math.min(...live.map((b) => b.expiresAt));
    if (this.armed.get(aor) !== first) {
      this.armed.set(aor, first);
      this.out.push({ type: 'set-timer', id: timerId, at: first });
    }
    const g = this.cfg.gateway;
    const transportParam = g.transport === 'UDP' ? '' : `;transport=${g.transport.toLowerCase()}`;
    const gatewaySipAddress = `sip:${g.host}:${g.port}${transportParam}`;
    this.out.push({
      type: 'publish',
      aor,
      displayName: this.cfg.accounts(aor)?.displayName,
      contacts: [
        {
          uri: serializeUri({
            scheme: 'sip',
            user: aor,
            password: null,
            host: g.host,
            port: g.port,
            params: g.transport === 'UDP' ? {} : { transport: g.transport.toLowerCase() },
            headers: {},
          }),
          transport: g.transport,
          expires: Math.max(...live.map((b) => b.expiresAt)),
          q: Math.max(...live.map((b) => b.q)),
          nodeId: g.nodeId,
          deskPhone: true,
          gatewaySipAddress,
        },
      ],
    });
  }

  private warn(message: string, context: Record<string, unknown>): void {
    this.out.push({ type: 'warning', message, context });
  }
}
