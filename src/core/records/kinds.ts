// The kind table: for each kind its data model, access policy, size and lifetime limits, and a
// structural check of the value bytes. Structured kinds carry UTF-8 JSON; audio kinds raw bytes.

import type { TransportName } from '../net.ts';
import type { AccessPolicy, DataModel, KindName, NodeId } from './types.ts';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const KIB = 1024;

/** Voicemail audio (encrypted) is split into chunks of this size: one chunk per record. */
export const VOICEMAIL_CHUNK_SIZE = 64 * KIB;

export interface KindSpec {
  name: KindName;
  model: DataModel;
  policy: AccessPolicy;
  /** Largest accepted value, bytes. */
  maxValueSize: number;
  /** Largest accepted lifetime, ms: writers refresh long-lived records before they expire. */
  maxLifetime: number;
  /** Structural check of a live value's bytes; returns a reason when malformed. */
  check(value: Uint8Array): string | null;
}

// ---- data models of the structured kinds ----

/** SIP-REGISTRATION: dictionary keyed by the registering peer's Node-ID. */
export interface SipRegistrationData {
  contacts: Array<{ uri: string; transport?: TransportName; q?: number }>;
  /** Set when a desk phone registered through a gateway peer, which proxies for it. */
  gateway?: NodeId;
  displayName?: string;
}

export type PresenceState = 'available' | 'ringing' | 'on-call' | 'dnd' | 'away';
export interface PresenceData {
  state: PresenceState;
  note?: string;
}

/**
 * DEVICE-STATE: dictionary at an extension's user resource, keyed by the Node-ID of the gateway
 * peer that serves the extension's desk phone; that phone's call state as the gateway's proxy sees
 * it (desk phones hold no certificate, so they publish no PRESENCE). Short lifetime, refreshed.
 */
export type DeviceState = 'available' | 'ringing' | 'on-call';
export interface DeviceStateData {
  state: DeviceState;
  /** ms since epoch when this state began. */
  since?: number;
}

/** VOICEMAIL: dictionary entry id -> metadata; the encrypted audio is in VOICEMAIL-CHUNK records. */
export interface VoicemailEntryData {
  id: string;
  from: string;
  /** ms since epoch when recorded. */
  time: number;
  /** ms of audio. */
  duration: number;
  heard: boolean;
  /** Total bytes of the encrypted blob and how it was chunked. */
  size: number;
  chunkCount: number;
  chunkSize: number;
  /** hex SHA-256 of the whole encrypted blob, checked after reassembly. */
  sha256: string;
}

export interface OfficeConfigData {
  officeName?: string;
  dialPlan?: Array<{ prefix: string; target: string; strip?: number }>;
  ringGroups?: Array<{ extension: string; members: string[] }>;
  trunks?: Array<{ name: string; host: string; port?: number; transport?: TransportName }>;
}

export interface UserSettingsData {
  dnd: boolean;
  forwardAlways?: string;
  forwardBusy?: string;
  forwardNoAnswer?: string;
  noAnswerMs?: number;
  /** Hash of the voicemail PIN (desk phones dial *97). */
  voicemailPinHash?: string;
}

// ---- JSON codec ----

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeJson(data: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(data));
}

export type DecodeResult<T> = { ok: true; value: T } | { ok: false; error: string };

/** Never throws: bad UTF-8 or JSON becomes an error. The shape is checked by the kind's check(). */
export function decodeJson<T>(bytes: Uint8Array): DecodeResult<T> {
  try {
    return { ok: true, value: JSON.parse(decoder.decode(bytes)) as T };
  } catch (e) {
    return { ok: false, error: `not UTF-8 JSON: ${(e as Error).message}` };
  }
}

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);
const isStr = (x: unknown): x is string => typeof x === 'string';
const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const optStr = (x: unknown) => x === undefined || isStr(x);

/** Decodes JSON and runs a shape check that returns a reason or null. */
function jsonCheck(shape: (o: Obj) => string | null): (value: Uint8Array) => string | null {
  return (value) => {
    const d = decodeJson<unknown>(value);
    if (!d.ok) return d.error;
    if (!isObj(d.value)) return 'value is not a JSON object';
    return shape(d.value);
  };
}

const PRESENCE_STATES: ReadonlySet<string> = new Set(['available', 'ringing', 'on-call', 'dnd', 'away']);

const checkRegistration = jsonCheck((o) => {
  if (!Array.isArray(o.contacts)) return 'contacts must be an array';
  for (const c of o.contacts) {
    if (!isObj(c) || !isStr(c.uri) || !c.uri.startsWith('sip')) return 'each contact needs a sip: uri';
  }
  return optStr(o.gateway) && optStr(o.displayName) ? null : 'gateway/displayName must be strings';
});

const checkPresence = jsonCheck((o) =>
  isStr(o.state) && PRESENCE_STATES.has(o.state) && optStr(o.note) ? null : 'unknown presence state',
);

const DEVICE_STATES: ReadonlySet<string> = new Set(['available', 'ringing', 'on-call']);

const checkDeviceState = jsonCheck((o) => {
  if (!isStr(o.state) || !DEVICE_STATES.has(o.state)) return 'unknown device state';
  return o.since === undefined || isNum(o.since) ? null : 'since must be a number';
});

const checkVoicemail = jsonCheck((o) => {
  if (!isStr(o.id) || !isStr(o.from) || !isStr(o.sha256)) return 'id, from and sha256 must be strings';
  for (const f of ['time', 'duration', 'size', 'chunkCount', 'chunkSize'] as const) {
    if (!isNum(o[f]) || (o[f] as number) < 0) return `${f} must be a non-negative number`;
  }
  return typeof o.heard === 'boolean' ? null : 'heard must be a boolean';
});

const checkOfficeConfig = jsonCheck((o) => {
  for (const f of ['dialPlan', 'ringGroups', 'trunks'] as const) {
    if (o[f] !== undefined && !Array.isArray(o[f])) return `${f} must be an array`;
  }
  return optStr(o.officeName) ? null : 'officeName must be a string';
});

const checkUserSettings = jsonCheck((o) => {
  if (typeof o.dnd !== 'boolean') return 'dnd must be a boolean';
  for (const f of ['forwardAlways', 'forwardBusy', 'forwardNoAnswer', 'voicemailPinHash'] as const) {
    if (!optStr(o[f])) return `${f} must be a string`;
  }
  return o.noAnswerMs === undefined || isNum(o.noAnswerMs) ? null : 'noAnswerMs must be a number';
});

const checkPem = (value: Uint8Array): string | null => {
  const d = decodeUtf8(value);
  return d?.includes('-----BEGIN CERTIFICATE-----') ? null : 'not a PEM certificate';
};

const anyBytes = (): string | null => null;

function decodeUtf8(bytes: Uint8Array): string | null {
  try {
    return decoder.decode(bytes);
  } catch {
    return null;
  }
}

export const KINDS: Readonly<Record<KindName, KindSpec>> = {
  'SIP-REGISTRATION': {
    name: 'SIP-REGISTRATION',
    model: 'dictionary',
    policy: 'USER-NODE-MATCH',
    maxValueSize: 4 * KIB,
    maxLifetime: DAY,
    check: checkRegistration,
  },
  CERTIFICATE: {
    name: 'CERTIFICATE',
    model: 'single',
    policy: 'USER-MATCH',
    maxValueSize: 8 * KIB,
    maxLifetime: 30 * DAY,
    check: checkPem,
  },
  PRESENCE: {
    name: 'PRESENCE',
    model: 'single',
    policy: 'USER-MATCH',
    maxValueSize: KIB,
    maxLifetime: 5 * MINUTE,
    check: checkPresence,
  },
  VOICEMAIL: {
    name: 'VOICEMAIL',
    model: 'dictionary',
    policy: 'DEPOSIT',
    maxValueSize: 8 * KIB,
    maxLifetime: 365 * DAY,
    check: checkVoicemail,
  },
  'VOICEMAIL-CHUNK': {
    name: 'VOICEMAIL-CHUNK',
    model: 'single',
    policy: 'DEPOSIT',
    maxValueSize: VOICEMAIL_CHUNK_SIZE,
    maxLifetime: 365 * DAY,
    check: anyBytes,
  },
  GREETING: {
    name: 'GREETING',
    model: 'single',
    policy: 'USER-MATCH',
    maxValueSize: 512 * KIB,
    maxLifetime: 365 * DAY,
    check: anyBytes,
  },
  'OFFICE-CONFIG': {
    name: 'OFFICE-CONFIG',
    model: 'single',
    policy: 'ADMIN',
    maxValueSize: 256 * KIB,
    maxLifetime: 365 * DAY,
    check: checkOfficeConfig,
  },
  'USER-SETTINGS': {
    name: 'USER-SETTINGS',
    model: 'single',
    policy: 'USER-MATCH',
    maxValueSize: 4 * KIB,
    maxLifetime: 365 * DAY,
    check: checkUserSettings,
  },
  'DEVICE-STATE': {
    name: 'DEVICE-STATE',
    model: 'dictionary',
    policy: 'USER-NODE-MATCH',
    maxValueSize: 256,
    maxLifetime: 5 * MINUTE,
    check: checkDeviceState,
  },
  TEST: {
    name: 'TEST',
    model: 'dictionary',
    policy: 'USER-MATCH',
    maxValueSize: 64 * KIB,
    maxLifetime: DAY,
    check: anyBytes,
  },
};

export function kindSpec(name: string): KindSpec | undefined {
  return Object.hasOwn(KINDS, name) ? KINDS[name as KindName] : undefined;
}

/** Whether a slot key fits the data model: SINGLE uses '', ARRAY a decimal index, DICTIONARY any non-empty key. */
export function keyFitsModel(model: DataModel, key: string): boolean {
  if (model === 'single') return key === '';
  if (model === 'array') return /^(0|[1-9][0-9]{0,8})$/.test(key);
  return key.length > 0 && key.length <= 256;
}
