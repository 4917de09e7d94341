// The WebSocket framing of the contract (one JSON text message per frame).
//
// Client -> server:  { kind: 'auth', token }                 first message, required
//                    { kind: 'command', id, command }        id: a client-chosen integer
// Server -> client:  { kind: 'ready' }                       after a good token
//                    { kind: 'reply', id, reply }            id null when the frame had none
//                    { kind: 'event', event }
//
// The token travels in the first message, not in the URL or a subprotocol header: the page reads it
// from its `#token=` fragment, which browsers never send, so it appears in no request line or log.
import {
  type ApiFailure,
  type Command,
  type CommandType,
  commandSchema,
  type EngineEvent,
  eventSchema,
  type Reply,
  replySchema,
} from './contract.ts';
import { literal, number, object, type Parsed, string } from './schema.ts';

/** Commands are small, except a greeting upload (base64 WAV, at most 4 MB: see `greeting.set`). */
export const MAX_CLIENT_FRAME = 4_200_000;
/** Close codes (4000-4999 are for applications). */
export const CLOSE_UNAUTHORIZED = 4401;
export const CLOSE_AUTH_TIMEOUT = 4408;

export type ClientMessage =
  | { kind: 'auth'; token: string }
  | { kind: 'command'; id: number; command: Command };
export type ServerMessage =
  | { kind: 'ready' }
  | { kind: 'reply'; id: number | null; reply: Reply<CommandType> | ApiFailure }
  | { kind: 'event'; event: EngineEvent };

const authFrame = object({ kind: literal('auth'), token: string({ min: 1, max: 200 }) });
const commandId = number({ min: 0, max: Number.MAX_SAFE_INTEGER, integer: true });

function json(text: string): Parsed<unknown> {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, error: 'not JSON' };
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A client frame, or why it is invalid (with the command id when one could be read). */
export function parseClientMessage(
  text: string,
): { ok: true; message: ClientMessage } | { ok: false; id: number | null; error: string } {
  const j = json(text);
  if (!j.ok) return { ok: false, id: null, error: j.error };
  const v = j.value;
  if (!isRecord(v)) return { ok: false, id: null, error: 'frame: expected an object' };
  if (v.kind === 'auth') {
    const a = authFrame.parse(v, 'auth');
    return a.ok ? { ok: true, message: a.value } : { ok: false, id: null, error: a.error };
  }
  if (v.kind !== 'command') return { ok: false, id: null, error: 'frame.kind: unknown' };
  const idr = commandId.parse(v.id, 'id');
  if (!idr.ok) return { ok: false, id: null, error: idr.error };
  const c = commandSchema.parse(v.command, 'command');
  if (!c.ok) return { ok: false, id: idr.value, error: c.error };
  return { ok: true, message: { kind: 'command', id: idr.value, command: c.value } };
}

/** A server frame as the renderer sees it; `replyTypeOf` names the command an id was for. */
export function parseServerMessage(
  text: string,
  replyTypeOf: (id: number) => CommandType | undefined,
): Parsed<ServerMessage> {
  const j = json(text);
  if (!j.ok) return j;
  const v = j.value;
  if (!isRecord(v)) return { ok: false, error: 'frame: expected an object' };
  if (v.kind === 'ready') return { ok: true, value: { kind: 'ready' } };
  if (v.kind === 'event') {
    const e = eventSchema.parse(v.event, 'event');
    return e.ok ? { ok: true, value: { kind: 'event', event: e.value } } : e;
  }
  if (v.kind === 'reply') {
    const id = v.id === null ? null : commandId.parse(v.id, 'id');
    if (id !== null && !id.ok) return id;
    const type = id === null ? undefined : replyTypeOf(id.value);
    if (id === null || type === undefined) {
      // An answer to a frame the server could not read: only a failure makes sense.
      const r = replySchema('engine.capabilities').parse(v.reply);
      if (!r.ok || r.value.ok) return { ok: false, error: 'reply: for no pending command' };
      return { ok: true, value: { kind: 'reply', id: id?.value ?? null, reply: r.value } };
    }
    const r = replySchema(type).parse(v.reply);
    return r.ok ? { ok: true, value: { kind: 'reply', id: id.value, reply: r.value } } : r;
  }
  return { ok: false, error: 'frame.kind: unknown' };
}

/**
 * Electron IPC channels (same contract, no framing: ipcRenderer.invoke carries one command and
 * resolves with its reply; events are pushed on IPC_EVENT). The preload exposes exactly:
 *   window.peerpbx = { command: (c) => ipcRenderer.invoke(IPC_COMMAND, c),
 *                      on: (h) => { const l = (_e, ev) => h(ev); ipcRenderer.on(IPC_EVENT, l);
 *                               return () => ipcRenderer.removeListener(IPC_EVENT, l); } }
 */
export const IPC_COMMAND = 'peerpbx:command';
export const IPC_EVENT = 'peerpbx:event';
