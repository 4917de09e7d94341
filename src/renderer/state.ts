// The renderer's view of the engine: one reducer fed by command replies and pushed events, so every
// screen reads the same live state (presence in the directory changes the moment an event arrives).
import type {
  Call,
  CommandType,
  EngineEvent,
  EngineEventOf,
  JoinRequest,
  Member,
  OfficeStatus,
  VoicemailMessage,
} from '../core/api/contract.ts';
import type { ConnectionState } from './transport.ts';

export type ProgressEvent = EngineEventOf<'progress'>;
export type EnrollmentEvent = EngineEventOf<'enrollment'>;

export interface AppState {
  conn: ConnectionState;
  /** null until the engine said what it implements. */
  capabilities: ReadonlySet<CommandType> | null;
  status: OfficeStatus | null;
  members: Member[];
  calls: Call[];
  voicemail: VoicemailMessage[] | null;
  joinRequests: JoinRequest[];
  progress: ProgressEvent[];
  enrollment: EnrollmentEvent | null;
}

export const initialState: AppState = {
  conn: 'connecting',
  capabilities: null,
  status: null,
  members: [],
  calls: [],
  voicemail: null,
  joinRequests: [],
  progress: [],
  enrollment: null,
};

export type Action =
  | { type: 'conn'; conn: ConnectionState }
  | { type: 'capabilities'; commands: readonly string[] }
  | { type: 'status'; status: OfficeStatus }
  | { type: 'members'; members: Member[] }
  | { type: 'calls'; calls: Call[] }
  | { type: 'voicemail'; messages: VoicemailMessage[] }
  | { type: 'joinRequests'; requests: JoinRequest[] }
  | { type: 'event'; event: EngineEvent };

const byExtension = (a: Member, b: Member) =>
  a.extension.localeCompare(b.extension, undefined, { numeric: true });

function upsert<T>(list: T[], item: T, same: (a: T) => boolean): T[] {
  const i = list.findIndex(same);
  if (i < 0) return [...list, item];
  const out = list.slice();
  out[i] = item;
  return out;
}

function applyEvent(s: AppState, e: EngineEvent): AppState {
  switch (e.type) {
    case 'presence.changed': {
      const members = s.members.map((m) =>
        m.extension === e.extension ? { ...m, presence: e.presence } : m,
      );
      const own =
        s.status && s.status.extension === e.extension ? { ...s.status, presence: e.presence } : s.status;
      return { ...s, members, status: own };
    }
    case 'member.up':
      return {
        ...s,
        members: upsert(s.members, e.member, (m) => m.nodeId === e.member.nodeId).sort(byExtension),
      };
    case 'member.down':
      return {
        ...s,
        members: s.members.map((m) =>
          m.nodeId === e.nodeId ? { ...m, presence: { state: 'offline' as const }, upSince: null } : m,
        ),
      };
    case 'call.incoming':
    case 'call.state':
      // Ended calls leave the panel; the history keeps them.
      return e.call.state === 'ended'
        ? { ...s, calls: s.calls.filter((c) => c.id !== e.call.id) }
        : { ...s, calls: upsert(s.calls, e.call, (c) => c.id === e.call.id) };
    case 'voicemail.new':
      return { ...s, voicemail: [e.message, ...(s.voicemail ?? []).filter((m) => m.id !== e.message.id)] };
    case 'voicemail.changed':
      return { ...s, voicemail: e.messages };
    case 'join-request':
      return { ...s, joinRequests: upsert(s.joinRequests, e.request, (r) => r.id === e.request.id) };
    case 'enrollment':
      return { ...s, enrollment: e, status: e.status ?? s.status };
    case 'office.changed':
      return { ...s, status: e.status };
    case 'progress': {
      const rest = s.progress.filter((p) => p.operation !== e.operation);
      return { ...s, progress: e.done && !e.error ? rest : [...rest, e] };
    }
    case 'log':
      return s;
  }
}

export function reduce(s: AppState, a: Action): AppState {
  switch (a.type) {
    case 'conn':
      return { ...s, conn: a.conn };
    case 'capabilities':
      return { ...s, capabilities: new Set(a.commands as CommandType[]) };
    case 'status':
      return { ...s, status: a.status };
    case 'members':
      return { ...s, members: [...a.members].sort(byExtension) };
    case 'calls':
      return { ...s, calls: a.calls.filter((c) => c.state !== 'ended') };
    case 'voicemail':
      return { ...s, voicemail: a.messages };
    case 'joinRequests':
      return { ...s, joinRequests: a.requests };
    case 'event':
      return applyEvent(s, a.event);
  }
}
