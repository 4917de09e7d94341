// The narrow facade the UI engine needs from a running peer (EngineHost). PeerEngine is written
// against this, not against Peer, so it is unit-tested with a fake host and survives Peer's growth;
// createEngineHost (peer-host.ts) adapts the real Peer to it.

import type { EngineAudio } from '../../core/api/engine.ts';
import type { DialPlanConfig } from '../../core/pbx/routing-plan.ts';
import type { UserSettingsData } from '../../core/records/kinds.ts';

export interface HostIdentity {
  office: string;
  extension: string;
  displayName: string | null;
  nodeId: string;
  admin: boolean;
}

export interface HostMember {
  nodeId: string;
  /** Null while the member's certificate (and so its user) is not known yet. */
  extension: string | null;
  address: string;
  upSince: number | null;
  self: boolean;
}

export interface HostHolding {
  kind: string;
  resource: string;
  role: 'responsible' | 'replica' | 'handing-off';
  storedAt: number;
  /** Copies the ring confirmed (measured by the overlay's digest acknowledgements). */
  copies: number;
}

export interface HostLookup {
  reachable: boolean;
  contacts: string[];
  displayName?: string;
}

export interface HostJoinRequest {
  id: string;
  extension: string;
  nodeId: string;
  displayName?: string;
  address: string;
  at: number;
}

/** The admin PC's enrollment book (null on other PCs). */
export interface HostJoinRequests {
  pending(): HostJoinRequest[];
  approve(id: string): Promise<{ ok: true } | { ok: false; reason: string }>;
  deny(id: string): boolean;
  onRequest(listener: (r: HostJoinRequest) => void): () => void;
}

/** What the engine reads of the softphone's call events (a subset of the pbx's PbxEvent). */
export type HostCallEvent =
  /** `replaces`: the call takes over that call of ours at once (attended transfer, RFC 3891). */
  | { type: 'incoming'; call: string; from: string; replaces?: string }
  /** The other party transferred us: `call` is our new outgoing call to `target`. */
  | { type: 'transferred'; call: string; target: string }
  | { type: 'ringing'; call: string }
  | { type: 'answered'; call: string }
  | { type: 'media-updated'; call: string; held: boolean; remoteHold: boolean }
  | { type: 'ended'; call: string; reason: string; status?: number };

export interface HostPbx {
  /** Returns the new call's id. */
  dial(target: string): Promise<string>;
  answer(callId: string): void;
  hangup(callId: string): void;
  hold(callId: string): Promise<boolean>;
  resume(callId: string): Promise<boolean>;
  /** Blind transfer; resolves with the REFER's final status. */
  transfer(callId: string, target: string): Promise<number>;
  /**
   * Attended transfer: `consultCallId` (answered) replaces `callId` at its other party; resolves
   * with the new call's final status, after which both our calls end.
   */
  attendedTransfer?(callId: string, consultCallId: string): Promise<number>;
  /** RFC 4733 digits; returns how many were queued (0: DTMF not negotiated). */
  sendDtmf(callId: string, digits: string): number;
  /** Refuses a ringing incoming call with `status` (486: the caller's plan goes to voicemail). */
  reject?(callId: string, status: number): void;
  onEvent(listener: (e: HostCallEvent) => void): () => void;
}

export interface HostHistoryRow {
  id: number;
  startedAt: number;
  direction: 'in' | 'out';
  remote: string;
  durationMs: number;
  outcome: string;
}

/** A call's audio to and from the UI (call-audio.ts), plus the mute switch of its microphone. */
export interface HostAudio extends EngineAudio {
  /** False when the call has no live media. */
  setMuted(callId: string, on: boolean): boolean;
}

/** This user's USER-SETTINGS in the overlay (DND, forwarding; the PIN hash is kept as it is). */
export interface HostSettings {
  get(): Promise<UserSettingsData>;
  /** Read-modify-write of the given fields. */
  update(change: Partial<UserSettingsData>): Promise<UserSettingsData>;
}

/** Desk-phone accounts served by this peer (its data folder's settings). */
export interface HostPhones {
  list(): Array<{ extension: string; registered: boolean }>;
  add(extension: string, password: string): void;
  /** False when there was no such account. */
  remove(extension: string): boolean;
}

/** The office's OFFICE-CONFIG (dial plan, trunks, ring groups); writing needs the admin certificate. */
export interface HostOfficeConfig {
  get(): Promise<DialPlanConfig>;
  set(config: DialPlanConfig): Promise<void>;
}

/** The owner's side of this user's voicemail box (src/main/voicemail/mailbox.ts). */
export interface HostMailboxMessage {
  id: string;
  from: string;
  time: number;
  duration: number;
  heard: boolean;
}
export interface HostMailbox {
  list(): HostMailboxMessage[];
  refresh(): Promise<HostMailboxMessage[]>;
  on(listener: (e: { type: 'new'; message: HostMailboxMessage } | { type: 'changed' }) => void): () => void;
  audio(id: string): Promise<Uint8Array>;
  markHeard(id: string): Promise<void>;
  delete(id: string): Promise<void>;
  getGreeting(kind: 'unavailable' | 'busy'): Promise<Uint8Array | null>;
  setGreeting(kind: 'unavailable' | 'busy', wav: Uint8Array | null): Promise<void>;
}

/** Live presence (src/main/presence/presence-service.ts). */
export interface HostPresenceView {
  state: 'available' | 'ringing' | 'on-call' | 'dnd' | 'away' | 'offline';
  note?: string;
  since: number;
}
export interface HostPresence {
  set(state: 'available' | 'dnd' | 'away', note?: string): Promise<HostPresenceView>;
  own(): HostPresenceView;
  watch(extension: string, cb: (p: HostPresenceView) => void): Promise<() => void>;
}

export interface EngineHost {
  identity(): HostIdentity;
  members(): HostMember[];
  holdings(): HostHolding[];
  lookup(extension: string): Promise<HostLookup>;
  /** The name a member published with its registration (undefined: none or not found). */
  displayName(extension: string, nodeId: string): Promise<string | undefined>;
  onMembership(listener: (e: { type: 'up' | 'down'; nodeId: string }) => void): () => void;
  /** Admin only: a one-time join code (throws with a clear message elsewhere). */
  invite(extension: string): { code: string };
  joinRequests: HostJoinRequests | null;
  /** Null while the peer has no phone system (pbx not started). */
  pbx: HostPbx | null;
  history(limit: number): HostHistoryRow[];
  /** The UI's side of calls' audio; absent when the peer has no phone. */
  audio?: HostAudio | null;
  settings?: HostSettings | null;
  phones?: HostPhones | null;
  officeConfig?: HostOfficeConfig | null;
  mailbox?: HostMailbox | null;
  presence?: HostPresence | null;
  /** Admin PC whose CA key is not open (no passphrase given): approvals need admin.unlock. */
  adminLocked?: () => boolean;
  /** Releases what the adapter opened (listeners, database handles). */
  close(): void;
}

export interface CreateOfficeParams {
  officeName: string;
  extension: string;
  displayName: string;
  passphrase?: string;
}

export interface JoinOfficeParams {
  extension: string;
  displayName: string;
  code?: string;
  peer?: string;
}

/**
 * Enrolling an unenrolled data folder: creating or joining an office, then restarting the peer as
 * a member; resolves with the new host. Given by the shell (app.ts), which owns the peer's life.
 */
export interface EngineEnrollment {
  /** Offices announcing themselves on the LAN (mDNS / broadcast), one entry per office CA. */
  discover?(): Promise<Array<{ id: string; name: string; peers: number; address?: string }>>;
  create(p: CreateOfficeParams): Promise<EngineHost>;
  join(p: JoinOfficeParams, onPending: (requestId: string) => void): Promise<EngineHost>;
  /** Stops a join that waits for the admin's approval (its promise then rejects). */
  cancelJoin?(): void;
  /** Checks the admin passphrase against the CA key and restarts the peer with it. */
  unlock?(passphrase: string): Promise<EngineHost>;
}
