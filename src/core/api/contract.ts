// The one contract between the engine (the peer in main) and any UI (DESIGN.md principle 5).
// Every command and event is a schema here; its TypeScript type is inferred from the schema, so what
// is validated at runtime is exactly what the compiler checks. Electron IPC and the WebSocket bridge
// carry these values and nothing else; both validate every payload on arrival (commands in main,
// replies and events in the renderer).
//
// Times are milliseconds since the Unix epoch (numbers); durations are seconds.
import {
  array,
  boolean,
  type Infer,
  literal,
  nullable,
  number,
  object,
  optional,
  type Schema,
  string,
  tagged,
} from './schema.ts';

// ---- Shared values -------------------------------------------------------------------------------

export const extension = string({ min: 1, max: 15, pattern: /^[0-9]+$/ });
export const displayName = string({ max: 64 });
/** 128-bit Node-ID as 32 lower-case hex digits. */
export const nodeId = string({ min: 32, max: 32, pattern: /^[0-9a-f]{32}$/ });
/** "host:port" of a peer, as typed by a user or reported by discovery. */
export const peerAddress = string({ min: 3, max: 300, pattern: /^[^\s]+:\d{1,5}$/ });
const time = number({ min: 0 });
const id = string({ min: 1, max: 200 });

export const presenceState = literal('available', 'ringing', 'on-call', 'dnd', 'away', 'offline');
/** What a user may set by hand; ringing/on-call come from calls, offline from expiry. */
export const ownPresenceState = literal('available', 'dnd', 'away');
export const presence = object({
  state: presenceState,
  note: optional(string({ max: 140 })),
  since: optional(time),
});

export const officeStatus = object({
  enrolled: boolean(),
  officeName: nullable(string({ max: 100 })),
  extension: nullable(extension),
  displayName: nullable(displayName),
  nodeId: nullable(nodeId),
  admin: boolean(),
  /** Set while a join waits for the admin's approval. */
  pendingJoin: optional(boolean()),
  /** Admin PC running without the passphrase that opens the CA key: joins wait for admin.unlock. */
  adminLocked: optional(boolean()),
  presence: optional(presence),
});

export const member = object({
  extension,
  displayName,
  address: string({ max: 300 }),
  nodeId,
  upSince: nullable(time),
  presence,
});

export const recordRole = literal('responsible', 'replica');
export const heldRecord = object({
  kind: string({ max: 40 }),
  /** Resource name, e.g. `101@office`. */
  resource: string({ max: 300 }),
  role: recordRole,
  /** Copies of this record the peer knows of on the ring (the goal is 3). */
  copies: number({ min: 0, integer: true }),
  storedAt: optional(time),
  expiresAt: optional(time),
});
export const networkView = object({
  ring: array(
    object({ nodeId, extension: nullable(extension), address: string({ max: 300 }), self: boolean() }),
  ),
  records: array(heldRecord),
  replicaHealth: object({
    records: number({ min: 0, integer: true }),
    /** Records with fewer than 3 copies. */
    underReplicated: array(
      object({ kind: string({ max: 40 }), resource: string({ max: 300 }), copies: number() }),
    ),
  }),
});

export const lookupResult = object({
  extension,
  reachable: boolean(),
  displayName: optional(displayName),
  contacts: array(string({ max: 500 }), 100),
  presence: optional(presence),
});

export const officeFound = object({
  /** Stable id of the office (its CA fingerprint). */
  id,
  name: string({ max: 100 }),
  peers: number({ min: 0, integer: true }),
  address: optional(peerAddress),
});

export const joinRequest = object({
  id,
  extension,
  displayName,
  nodeId: optional(nodeId),
  address: optional(string({ max: 300 })),
  receivedAt: time,
});

export const party = object({
  uri: string({ max: 500 }),
  extension: optional(extension),
  displayName: optional(displayName),
});

export const callState = literal('dialing', 'ringing', 'incoming', 'active', 'held', 'ended');
export const call = object({
  id,
  direction: literal('in', 'out'),
  remote: party,
  state: callState,
  muted: boolean(),
  /** Held by us (the far end may also hold: state 'held'). */
  onHold: boolean(),
  startedAt: time,
  answeredAt: optional(time),
  endedAt: optional(time),
  endReason: optional(string({ max: 200 })),
});

export const voicemailMessage = object({
  id,
  from: party,
  time,
  duration: number({ min: 0 }),
  heard: boolean(),
});

export const historyEntry = object({
  id,
  direction: literal('in', 'out', 'missed'),
  remote: party,
  startedAt: time,
  duration: number({ min: 0 }),
});

export const forwarding = object({
  always: nullable(extension),
  busy: nullable(extension),
  noAnswer: nullable(extension),
  noAnswerSeconds: number({ min: 5, max: 120, integer: true }),
});
export const settings = object({ dnd: boolean(), forwarding });

const dialString = (max: number) => string({ min: 1, max, pattern: /^[0-9*#+]+$/ });
export const trunk = object({
  name: string({ min: 1, max: 64 }),
  host: string({ min: 1, max: 255, pattern: /^[^\s/]+$/ }),
  port: optional(number({ min: 1, max: 65535, integer: true })),
  /** Numbers dialled with this prefix go to the trunk (longest prefix wins). */
  prefix: optional(dialString(16)),
  strip: optional(number({ min: 0, max: 16, integer: true })),
  transport: optional(literal('UDP', 'TCP', 'TLS')),
  username: optional(string({ max: 128 })),
  password: optional(string({ max: 128 })),
});
/** The office's OFFICE-CONFIG as the admin edits it (signed by the admin, read by every peer). */
export const officeConfig = object({
  trunks: array(trunk, 20),
  /** Extra prefix routes naming a trunk. */
  routes: array(
    object({
      prefix: dialString(16),
      target: string({ min: 1, max: 64 }),
      strip: optional(number({ min: 0, max: 16, integer: true })),
    }),
    100,
  ),
  /** Inbound trunk calls: DID -> extension or ring group. */
  inbound: array(object({ did: dialString(32), target: extension }), 500),
  ringGroups: array(
    object({
      extension,
      members: array(extension, 50),
      strategy: literal('ring-all', 'hunt'),
      memberTimeoutSeconds: optional(number({ min: 5, max: 120, integer: true })),
    }),
    50,
  ),
});

// ---- Commands ------------------------------------------------------------------------------------

interface CommandSpec<P extends Schema<unknown>, R extends Schema<unknown>> {
  params: P;
  result: R;
  /** The issue whose engine work implements it (see docs in issues 4-6). */
  issue: 4 | 5 | 6 | 7;
}
function spec<P extends Schema<unknown>, R extends Schema<unknown>>(
  issue: CommandSpec<P, R>['issue'],
  params: P,
  result: R,
): CommandSpec<P, R> {
  return { params, result, issue };
}
const none = object({});
const BASE64 = /^[A-Za-z0-9+/=]*$/;
/** A voicemail: at most ~3 min of 8 kHz 16-bit audio, with room to spare. */
const wavBase64 = string({ max: 8_000_000, pattern: BASE64 });
/** A greeting the UI uploads: at most ~3 MB of WAV (fits MAX_CLIENT_FRAME). */
const greetingBase64 = string({ min: 60, max: 4_000_000, pattern: BASE64 });
export const greetingKind = literal('unavailable', 'busy');
const done = object({});
const byCall = object({ callId: id });
const byMessage = object({ id });

/**
 * Every command of the contract. What the engine implements TODAY: none yet in src/main (the peer's
 * engine is being wired by the coordinator); `issue` names the issue whose engine work brings each
 * one (4: office/LAN, 5: calls, 6: voicemail and presence, 7: the UI itself). At run time the truth
 * is `engine.capabilities`: the renderer shows "not available yet" for every command not listed.
 */
export const COMMANDS = {
  /** Which command types this engine implements today (answered by every engine). */
  'engine.capabilities': spec(7, none, object({ commands: array(string({ max: 60 }), 200) })),
  'office.status': spec(4, none, officeStatus),
  'members.list': spec(4, none, object({ members: array(member) })),
  'network.view': spec(4, none, networkView),
  lookup: spec(4, object({ extension }), lookupResult),
  'office.create': spec(
    4,
    object({
      officeName: string({ min: 1, max: 100 }),
      extension,
      displayName,
      passphrase: optional(string({ min: 8, max: 200 })),
    }),
    officeStatus,
  ),
  /** Without `code`: asks the admin and returns pending; `enrollment` events follow. */
  'office.join': spec(
    4,
    object({
      extension,
      displayName,
      code: optional(string({ min: 1, max: 100 })),
      officeId: optional(id),
      peer: optional(peerAddress),
    }),
    object({ state: literal('enrolled', 'pending'), status: officeStatus }),
  ),
  'office.cancel-join': spec(4, none, done),
  'offices.discover': spec(
    4,
    object({ peer: optional(peerAddress) }),
    object({ offices: array(officeFound) }),
  ),
  'join-requests.list': spec(4, none, object({ requests: array(joinRequest) })),
  'join-requests.decide': spec(4, object({ id, approve: boolean() }), done),
  'presence.set': spec(
    6,
    object({ state: ownPresenceState, note: optional(string({ max: 140 })) }),
    presence,
  ),
  'call.dial': spec(5, object({ target: string({ min: 1, max: 300 }) }), object({ call })),
  'call.answer': spec(5, byCall, done),
  'call.decline': spec(5, object({ callId: id, toVoicemail: optional(boolean()) }), done),
  'call.hangup': spec(5, byCall, done),
  'call.hold': spec(5, object({ callId: id, on: boolean() }), done),
  'call.mute': spec(5, object({ callId: id, on: boolean() }), done),
  'call.dtmf': spec(
    5,
    object({ callId: id, digits: string({ min: 1, max: 32, pattern: /^[0-9*#A-D]+$/ }) }),
    done,
  ),
  /**
   * Blind transfer of `callId` to `target`; or attended (RFC 5589): `consultCallId` is this user's
   * answered call with the new party, which takes `callId`'s place (REFER with Replaces). One of
   * the two is given.
   */
  'call.transfer': spec(
    5,
    object({ callId: id, target: optional(string({ min: 1, max: 300 })), consultCallId: optional(id) }),
    done,
  ),
  'calls.list': spec(5, none, object({ calls: array(call) })),
  'voicemail.list': spec(6, none, object({ messages: array(voicemailMessage) })),
  'voicemail.mark-heard': spec(6, byMessage, done),
  'voicemail.delete': spec(6, byMessage, done),
  /** The decrypted message as a WAV file, base64 (at most ~3 min of 8 kHz audio). */
  'voicemail.audio': spec(6, byMessage, object({ mime: literal('audio/wav'), base64: wavBase64 })),
  /** The user's greeting of one kind; null while the default prompt is used. */
  'greeting.get': spec(6, object({ kind: greetingKind }), object({ base64: nullable(wavBase64) })),
  /** Records or uploads a greeting (a WAV file, base64); null goes back to the default prompt. */
  'greeting.set': spec(6, object({ kind: greetingKind, base64: nullable(greetingBase64) }), done),
  /** Admin: a one-time join code for a new PC with this extension. */
  'office.invite': spec(4, object({ extension }), object({ code: string({ min: 1, max: 100 }) })),
  /** Desk-phone accounts served by this peer (digest auth). */
  'phones.list': spec(5, none, object({ phones: array(object({ extension, registered: boolean() })) })),
  'phones.add': spec(5, object({ extension, password: string({ min: 8, max: 128 }) }), done),
  'phones.remove': spec(5, object({ extension }), done),
  'history.list': spec(
    5,
    object({ limit: optional(number({ min: 1, max: 1000, integer: true })) }),
    object({ entries: array(historyEntry) }),
  ),
  'settings.get': spec(5, none, settings),
  'settings.set': spec(5, object({ dnd: optional(boolean()), forwarding: optional(forwarding) }), settings),
  /** The office's trunks, routes, inbound DIDs and ring groups (empty lists when none). */
  'office-config.get': spec(5, none, officeConfig),
  /** Admin: replaces the office config (signed with the admin certificate, stored in the overlay). */
  'office-config.set': spec(5, object({ config: officeConfig }), officeConfig),
  /** Admin PC started without its passphrase: opens the CA key so join requests can be approved. */
  'admin.unlock': spec(4, object({ passphrase: string({ min: 8, max: 200 }) }), officeStatus),
};

export type CommandSpecs = typeof COMMANDS;
export type CommandType = keyof CommandSpecs;
export const COMMAND_TYPES = Object.keys(COMMANDS) as CommandType[];

type CommandMap = { [T in CommandType]: Infer<CommandSpecs[T]['params']> & { type: T } };
export type CommandOf<T extends CommandType> = CommandMap[T];
export type Command = CommandMap[CommandType];
export type ResultOf<T extends CommandType> = Infer<CommandSpecs[T]['result']>;

export const API_ERRORS = [
  'not-available', // the engine does not implement this command yet
  'invalid', // the payload failed validation
  'not-enrolled',
  'already-enrolled',
  'not-admin',
  'extension-taken',
  'wrong-code',
  'no-office-found',
  'denied', // the admin refused a join
  'not-found',
  'unreachable',
  'busy',
  'timeout',
  'internal',
] as const;
export type ApiErrorCode = (typeof API_ERRORS)[number];
const apiFailure = object({
  ok: literal(false),
  error: literal(...API_ERRORS),
  message: optional(string({ max: 2000 })),
});
export type ApiFailure = Infer<typeof apiFailure>;
export type Reply<T extends CommandType> = { ok: true; value: ResultOf<T> } | ApiFailure;

export const commandSchema: Schema<Command> = tagged(
  'type',
  Object.fromEntries(COMMAND_TYPES.map((t) => [t, COMMANDS[t].params])) as {
    [T in CommandType]: CommandSpecs[T]['params'];
  },
) as Schema<Command>;

/** The reply schema for one command type (the renderer checks what comes back). */
export function replySchema<T extends CommandType>(type: T): Schema<Reply<T>> {
  const result = COMMANDS[type].result as Schema<ResultOf<T>>;
  return {
    parse(v, path = 'reply') {
      if (typeof v === 'object' && v !== null && (v as { ok?: unknown }).ok === false)
        return apiFailure.parse(v, path);
      const r = object({ ok: literal(true), value: result }).parse(v, path);
      return r.ok
        ? { ok: true, value: { ok: true, value: (r.value as { value: unknown }).value as ResultOf<T> } }
        : r;
    },
  };
}

// ---- Events --------------------------------------------------------------------------------------

export const EVENTS = {
  'presence.changed': object({ extension, presence }),
  'member.up': object({ member }),
  'member.down': object({ extension: nullable(extension), nodeId }),
  'call.incoming': object({ call }),
  'call.state': object({ call }),
  'voicemail.new': object({ message: voicemailMessage }),
  /** The box changed otherwise (heard or deleted elsewhere, e.g. *97 on a desk phone; expired). */
  'voicemail.changed': object({ messages: array(voicemailMessage, 1000) }),
  'join-request': object({ request: joinRequest }),
  /** Outcome of a join that waited for approval; `status` once enrolled. */
  enrollment: object({
    state: literal('pending', 'enrolled', 'denied', 'failed'),
    reason: optional(string({ max: 500 })),
    status: optional(officeStatus),
  }),
  'office.changed': object({ status: officeStatus }),
  /** A long operation's progress; `fraction` null when unknown; `done` closes it. */
  progress: object({
    operation: id,
    label: string({ max: 200 }),
    fraction: nullable(number({ min: 0, max: 1 })),
    done: boolean(),
    error: optional(string({ max: 500 })),
  }),
  log: object({ level: literal('debug', 'info', 'warn', 'error'), message: string({ max: 2000 }) }),
};
export type EventType = keyof typeof EVENTS;
type EventMap = { [T in EventType]: Infer<(typeof EVENTS)[T]> & { type: T } };
export type EngineEventOf<T extends EventType> = EventMap[T];
export type EngineEvent = EventMap[EventType];
export const eventSchema = tagged('type', EVENTS) as Schema<EngineEvent>;

export type Presence = Infer<typeof presence>;
export type PresenceState = Infer<typeof presenceState>;
export type OwnPresenceState = Infer<typeof ownPresenceState>;
export type OfficeStatus = Infer<typeof officeStatus>;
export type Member = Infer<typeof member>;
export type NetworkView = Infer<typeof networkView>;
export type HeldRecord = Infer<typeof heldRecord>;
export type LookupResult = Infer<typeof lookupResult>;
export type OfficeFound = Infer<typeof officeFound>;
export type JoinRequest = Infer<typeof joinRequest>;
export type Party = Infer<typeof party>;
export type Call = Infer<typeof call>;
export type CallState = Infer<typeof callState>;
export type VoicemailMessage = Infer<typeof voicemailMessage>;
export type HistoryEntry = Infer<typeof historyEntry>;
export type Settings = Infer<typeof settings>;
export type Forwarding = Infer<typeof forwarding>;
export type GreetingKind = Infer<typeof greetingKind>;
export type OfficeConfig = Infer<typeof officeConfig>;
export type Trunk = Infer<typeof trunk>;
