// The office's share of the UI contract (src/core/api): join requests as `join-request` events and
// the admin's `join-requests.list` / `join-requests.decide` commands, over the running peer's
// EnrollmentServer. The UI bridge (Electron IPC or the headless WebSocket) serves these handlers
// with the others of its Engine.
import type { EngineEvent } from '../../core/api/contract.ts';
import { type CommandHandlers, errReply, okReply } from '../../core/api/engine.ts';
import type { EnrollmentServer, JoinRequestInfo } from '../enrollment/server.ts';

export type JoinRequestView = {
  id: string;
  extension: string;
  displayName: string;
  nodeId?: string;
  address?: string;
  receivedAt: number;
};

export function joinRequestView(r: JoinRequestInfo): JoinRequestView {
  return {
    id: r.id,
    extension: r.extension,
    displayName: (r.displayName ?? '').slice(0, 64),
    nodeId: /^[0-9a-f]{32}$/.test(r.nodeId) ? r.nodeId : undefined,
    address: r.address,
    receivedAt: r.at,
  };
}

/**
 * Handlers for the admin's join-request commands, and a subscription that pushes each new request as
 * a `join-request` event. `enrollment` is null on a PC that is not the office admin.
 */
export function joinRequestApi(
  enrollment: EnrollmentServer | null,
  emit: (event: EngineEvent) => void,
): { handlers: CommandHandlers; unsubscribe: () => void } {
  const onRequest = (r: JoinRequestInfo) => emit({ type: 'join-request', request: joinRequestView(r) });
  enrollment?.on('join-request', onRequest);
  const handlers: CommandHandlers = {
    'join-requests.list': () =>
      okReply<'join-requests.list'>({ requests: (enrollment?.pending() ?? []).map(joinRequestView) }),
    'join-requests.decide': async (cmd) => {
      if (!enrollment) return errReply('not-admin', 'this PC is not the office admin');
      if (!enrollment.pending().some((r) => r.id === cmd.id))
        return errReply('not-found', `no waiting join request ${cmd.id}`);
      if (!cmd.approve) {
        return enrollment.deny(cmd.id)
          ? okReply<'join-requests.decide'>({})
          : errReply('not-found', `no waiting join request ${cmd.id}`);
      }
      const r = await enrollment.approve(cmd.id);
      return r.ok
        ? okReply<'join-requests.decide'>({})
        : errReply(/taken/.test(r.reason) ? 'extension-taken' : 'invalid', r.reason);
    },
  };
  return { handlers, unsubscribe: () => enrollment?.off('join-request', onRequest) };
}
