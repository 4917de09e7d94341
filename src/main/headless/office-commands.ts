// The office commands of the CLI: create, invite, join (offline on the data folder or over the
// network to an admin peer) and status / lookup / join-request approval (through the control
// channel to the running peer of the data folder). Output for people on stdout; scripts use --json.
import { resolve } from 'node:path';
import type { HostPort } from '../config.ts';
import { askPeer } from '../control/client.ts';
import { joinOffice } from '../enrollment/join.ts';
import type { JoinRequestInfo } from '../enrollment/server.ts';
import { createLogger, setLogLevel } from '../log.ts';
import { createOffice, generatePassphrase, inviteToOffice } from '../office/office.ts';
import type { LookupResult, OfficeNode } from '../office/office-node.ts';

const out = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

/** PEERPBX_DISCOVERY=off|mdns|broadcast narrows discovery (tests; networks where one misbehaves). */
export function discoveryFromEnv(): { mdns?: boolean; broadcast?: boolean } {
  switch (process.env.PEERPBX_DISCOVERY) {
    case 'off':
      return { mdns: false, broadcast: false };
    case 'mdns':
      return { broadcast: false };
    case 'broadcast':
      return { mdns: false };
    default:
      return {};
  }
}

export function passphraseFromEnv(): string | undefined {
  const p = process.env.PEERPBX_PASSPHRASE;
  return p && p.length > 0 ? p : undefined;
}

export async function createCommand(o: {
  data: string;
  name: string;
  extension: string;
  displayName?: string;
  passphrase?: string;
}): Promise<void> {
  const given = o.passphrase ?? passphraseFromEnv();
  const passphrase = given ?? generatePassphrase();
  const id = createOffice({
    dataDir: resolve(o.data),
    name: o.name,
    extension: o.extension,
    displayName: o.displayName,
    passphrase,
  });
  out(`office ${id.office} created; this PC is extension ${id.extension} (admin)`);
  out(`office CA fingerprint: ${id.caFingerprint}`);
  if (!given) {
    // Shown once, never stored: the CA key is only as safe as this passphrase.
    out(
      `admin passphrase (shown once; write it down, run the admin peer with PEERPBX_PASSPHRASE): ${passphrase}`,
    );
  }
}

export async function inviteCommand(o: { data: string; extension: string }): Promise<void> {
  const r = inviteToOffice(resolve(o.data), o.extension);
  out(
    `join code for extension ${o.extension}, valid until ${new Date(r.expiresAt).toISOString()}, once: ${r.code}`,
  );
}

export async function joinCommand(o: {
  data: string;
  extension: string;
  code?: string;
  peer: HostPort[];
  displayName?: string;
}): Promise<void> {
  // A one-shot command: its outcome is one line; routine progress logs would bury it.
  if (!process.env.PEERPBX_LOG) setLogLevel('warn');
  const discoverMs = Number(process.env.PEERPBX_JOIN_DISCOVER_MS);
  const j = await joinOffice({
    dataDir: resolve(o.data),
    extension: o.extension,
    code: o.code,
    displayName: o.displayName,
    peers: o.peer,
    discoverMs: Number.isFinite(discoverMs) && discoverMs > 0 ? discoverMs : undefined,
    discovery: discoveryFromEnv(),
    onPending: (id, at) =>
      out(`waiting for an administrator to approve join request ${id} (admin peer ${at})`),
    log: createLogger({ component: 'join' }),
  });
  out(`joined office ${j.office} as extension ${j.extension} (Node-ID ${j.nodeId})`);
}

type Status = ReturnType<OfficeNode['status']>;

export async function statusCommand(o: { data: string; json?: boolean }): Promise<void> {
  const s = (await askPeer(o.data, { op: 'status' })) as Status;
  if (o.json) return out(JSON.stringify(s));
  const when = (t: number | null) => (t ? new Date(t).toISOString() : '-');
  out(
    `office ${s.office}, this peer: extension ${s.extension}${s.admin ? ' (admin)' : ''}, Node-ID ${s.nodeId}`,
  );
  out(`peers (${s.peers.length}):`);
  for (const p of s.peers)
    out(
      `  ${(p.extension ?? '?').padEnd(8)} ${p.address.padEnd(22)} ${p.nodeId}  up since ${when(p.upSince)}${p.self ? '  (this peer)' : ''}`,
    );
  out(
    `records held: ${s.records.total} (responsible ${s.records.responsible}, replica ${s.records.replica}, handing off ${s.records.handingOff})`,
  );
  out(
    `replica health: ${s.replicaHealth.state} (fewest confirmed copies ${s.replicaHealth.minCopies ?? '-'} of ${s.replicaHealth.target}, ${s.replicaHealth.underReplicated.length} of ${s.replicaHealth.records} records under ${s.replicaHealth.target}, ${s.replicaHealth.possible} possible)`,
  );
  if (s.pendingJoinRequests.length > 0) out(`join requests waiting: ${s.pendingJoinRequests.length}`);
}

export async function lookupCommand(o: { data: string; extension: string; json?: boolean }): Promise<void> {
  const r = (await askPeer(o.data, { op: 'lookup', extension: o.extension })) as LookupResult;
  if (o.json) out(JSON.stringify(r));
  else if (r.reachable)
    for (const c of r.contacts)
      out(`${c.uri} node ${c.nodeId} at ${c.address || '?'}${c.deskPhone ? ' (desk phone)' : ''}`);
  else out(`${r.user} is not reachable`);
  process.exitCode = r.reachable ? 0 : 1;
}

export async function requestsCommand(o: { data: string; json?: boolean }): Promise<void> {
  const list = (await askPeer(o.data, { op: 'join-requests' })) as JoinRequestInfo[];
  if (o.json) return out(JSON.stringify(list));
  if (list.length === 0) return out('no join requests waiting');
  for (const r of list)
    out(
      `${r.id}  extension ${r.extension}${r.displayName ? ` (${r.displayName})` : ''} from ${r.address} at ${new Date(r.at).toISOString()}`,
    );
}

export async function approveCommand(o: { data: string; request: string }): Promise<void> {
  const r = (await askPeer(o.data, { op: 'approve', id: o.request })) as { extension: string };
  out(`approved: extension ${r.extension} is enrolled`);
}

export async function denyCommand(o: { data: string; request: string }): Promise<void> {
  await askPeer(o.data, { op: 'deny', id: o.request });
  out(`denied join request ${o.request}`);
}
