// The control channel between `peerpbx status|lookup|office approve...` and the running peer of the
// same data folder: a unix socket in the data folder (0600, so only this user's processes reach it),
// one JSON line per request and per answer.
import { join } from 'node:path';

export const CONTROL_SOCKET = 'control.sock';

export function controlSocketPath(dataDir: string): string {
  return join(dataDir, CONTROL_SOCKET);
}

export type ControlRequest =
  | { op: 'status' }
  | { op: 'lookup'; extension: string }
  | { op: 'join-requests' }
  | { op: 'approve'; id: string }
  | { op: 'deny'; id: string }
  /** `phone add` changed the desk-phone accounts in the settings: serve them now. */
  | { op: 'reload-desk-phones' }
  /** `voicemail list|export|greeting|pin` (src/main/voicemail/mailbox-control.ts); files: absolute paths. */
  | { op: 'voicemail-list' }
  | { op: 'voicemail-export'; id: string; file: string }
  | { op: 'voicemail-heard' | 'voicemail-delete'; id: string }
  | { op: 'greeting-set'; kind: 'unavailable' | 'busy'; file: string | null }
  | { op: 'pin-set'; pin: string };

export type ControlAnswer = { ok: true; result: unknown } | { ok: false; error: string };

export function parseControlRequest(line: string): ControlRequest | null {
  try {
    const o = JSON.parse(line) as Record<string, unknown>;
    switch (o?.op) {
      case 'status':
      case 'join-requests':
      case 'reload-desk-phones':
      case 'voicemail-list':
        return { op: o.op };
      case 'voicemail-export':
        return typeof o.id === 'string' && typeof o.file === 'string'
          ? { op: o.op, id: o.id, file: o.file }
          : null;
      case 'greeting-set':
        return (o.kind === 'unavailable' || o.kind === 'busy') &&
          (typeof o.file === 'string' || o.file === null)
          ? { op: o.op, kind: o.kind, file: o.file }
          : null;
      case 'pin-set':
        return typeof o.pin === 'string' ? { op: o.op, pin: o.pin } : null;
      case 'voicemail-heard':
      case 'voicemail-delete':
        return typeof o.id === 'string' ? { op: o.op, id: o.id } : null;
      case 'lookup':
        return typeof o.extension === 'string' ? { op: 'lookup', extension: o.extension } : null;
      case 'approve':
      case 'deny':
        return typeof o.id === 'string' ? { op: o.op, id: o.id } : null;
      default:
        return null;
    }
  } catch {
    return null;
  }
}
