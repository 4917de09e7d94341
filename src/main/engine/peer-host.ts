// createEngineHost: the real Peer behind the EngineHost facade. Written against Peer's public API
// today: `office` (OfficeNode: identity, overlay members/holdings/events, lookup, enrollment) and
// `pbx` when the peer has one (OfficePbx, being wired into Peer: read through a structural type so
// this compiles before and after). Call history is read through its own connection to the data
// folder's database (Peer keeps its handle private; SQLite WAL lets both read and write).
import { parseDialPlan } from '../../core/pbx/dial-plan-config.ts';
import { decodeRegistration } from '../../core/pbx/registration-record.ts';
import type { DialPlanConfig } from '../../core/pbx/routing-plan.ts';
import { officeConfigResourceName, userResourceName } from '../../core/records/resource-names.ts';
import { openCaKey } from '../../core/security/ca.ts';
import type { EnrollmentServer } from '../enrollment/server.ts';
import { openDataDatabase } from '../identity/identity.ts';
import { createLogger } from '../log.ts';
import { addDeskPhoneAccount, deskPhoneAccounts } from '../office/desk-phone-accounts.ts';
import { inviteToOffice } from '../office/office.ts';
import type { OfficeNode } from '../office/office-node.ts';
import type { OfficePbx, PbxEvent } from '../pbx/office-pbx.ts';
import { type Peer, serveDeskPhoneAccounts } from '../peer.ts';
import type { PeerDatabase } from '../store/peer-database.ts';
import { attachCallAudio, CallAudio, type PhoneMediaHooks } from './call-audio.ts';
import type {
  EngineHost,
  HostCallEvent,
  HostJoinRequests,
  HostOfficeConfig,
  HostPbx,
  HostPhones,
  HostSettings,
} from './host.ts';

type PbxLike = Pick<
  OfficePbx,
  | 'dial'
  | 'answer'
  | 'hangup'
  | 'hold'
  | 'resume'
  | 'transfer'
  | 'attendedTransfer'
  | 'lookup'
  | 'on'
  | 'off'
  | 'directory'
  | 'setUserSettings'
  | 'getUserSettings'
  | 'updateUserSettings'
  | 'setOfficeConfig'
  | 'dialPlan'
> & {
  phone: {
    sendDtmf(callId: string, digits: string): number;
    ua: { reject(callId: string, status: number, now: number): void };
    host: { act<T>(f: (now: number) => T): T };
  } & PhoneMediaHooks;
};

/** The pbx events the engine reads, narrowed from PbxEvent. */
export function callEventOf(e: PbxEvent): HostCallEvent | null {
  switch (e.type) {
    case 'incoming':
      return {
        type: 'incoming',
        call: e.call,
        from: e.from,
        ...(e.replaces ? { replaces: e.replaces } : {}),
      };
    case 'transferred':
      return { type: 'transferred', call: e.call, target: e.target };
    case 'ringing':
    case 'answered':
      return { type: e.type, call: e.call };
    case 'media-updated':
      return { type: 'media-updated', call: e.call, held: e.held, remoteHold: e.remoteHold };
    case 'ended':
      return { type: 'ended', call: e.call, reason: e.reason, ...(e.status ? { status: e.status } : {}) };
    default:
      return null;
  }
}

export function pbxHost(pbx: PbxLike): HostPbx {
  return {
    dial: (t) => pbx.dial(t),
    answer: (id) => pbx.answer(id),
    hangup: (id) => pbx.hangup(id),
    hold: (id) => pbx.hold(id),
    resume: (id) => pbx.resume(id),
    transfer: (id, t) => pbx.transfer(id, t),
    attendedTransfer: (id, consult) => pbx.attendedTransfer(id, consult),
    sendDtmf: (id, d) => pbx.phone.sendDtmf(id, d),
    // The softphone's UA rejects with any status; its hangup() would always say 603.
    reject: (id, status) => pbx.phone.host.act((now) => pbx.phone.ua.reject(id, status, now)),
    onEvent(listener) {
      const on = (e: PbxEvent) => {
        const c = callEventOf(e);
        if (c) listener(c);
      };
      pbx.on('event', on);
      return () => pbx.off('event', on);
    },
  };
}

function joinRequestsHost(enrollment: EnrollmentServer): HostJoinRequests {
  return {
    pending: () => enrollment.pending(),
    approve: async (id) => {
      const r = await enrollment.approve(id);
      return r.ok ? { ok: true } : r;
    },
    deny: (id) => enrollment.deny(id),
    onRequest(listener) {
      enrollment.on('join-request', listener);
      return () => enrollment.off('join-request', listener);
    },
  };
}

const live = <V extends { exists: boolean; storageTime: number; lifetime: number }>(values: V[]) =>
  values
    .filter((v) => v.exists && Date.now() < v.storageTime + v.lifetime)
    .sort((a, b) => b.storageTime - a.storageTime)[0];

/** USER-SETTINGS of this user, read-modify-write (fields this UI does not edit, e.g. the PIN, stay). */
function settingsHost(pbx: PbxLike): HostSettings {
  return {
    get: () => pbx.getUserSettings(),
    // Absent forwarding targets come as undefined: updateUserSettings drops them.
    update: (change) => pbx.updateUserSettings(change),
  };
}

function phonesHost(peer: Peer, office: OfficeNode): HostPhones | null {
  const db = peer.db;
  const real = peer.pbx;
  if (!db || !real) return null;
  const serve = () => serveDeskPhoneAccounts(real, deskPhoneAccounts(db.settings));
  return {
    list: () =>
      deskPhoneAccounts(db.settings).map((a) => ({
        extension: a.extension,
        registered: (real.proxy.registrar?.bindings(a.extension, Date.now()).length ?? 0) > 0,
      })),
    add(extension, password) {
      addDeskPhoneAccount(db.settings, { extension, password, realm: office.identity.office });
      serve();
    },
    remove(extension) {
      const all = deskPhoneAccounts(db.settings);
      const rest = all.filter((a) => a.extension !== extension);
      if (rest.length === all.length) return false;
      // The same settings key desk-phone-accounts.ts reads (it has no remove of its own yet).
      db.settings.set('deskPhoneAccounts', rest);
      serve();
      return true;
    },
  };
}

function officeConfigHost(office: OfficeNode, pbx: PbxLike): HostOfficeConfig {
  const name = officeConfigResourceName(office.identity.office);
  return {
    async get(): Promise<DialPlanConfig> {
      const r = await office.overlay.fetch(name, 'OFFICE-CONFIG');
      const v = live(r.values.filter((x) => x.kind === 'OFFICE-CONFIG'));
      return v ? parseDialPlan(v.value).config : {};
    },
    set: (config) => pbx.setOfficeConfig(config),
  };
}

/** The EngineHost of an enrolled peer; null when the data folder is in no office. */
export function createEngineHost(peer: Peer): EngineHost | null {
  const office: OfficeNode | null = peer.office;
  if (!office) return null;
  const dataDir = peer.config.dataDir;
  const pbx = (peer as unknown as { pbx?: PbxLike | null }).pbx ?? null;
  let db: PeerDatabase | null = null;
  let locked: boolean | undefined;
  const offs: Array<() => void> = [];
  // The UI's microphone and speaker carry this peer's calls (hooked into the softphone's options).
  const audio = pbx ? new CallAudio(createLogger({ component: 'call-audio' })) : null;
  if (pbx && audio) offs.push(attachCallAudio(pbx.phone, audio));
  return {
    identity: () => {
      const id = office.identity;
      return {
        office: id.office,
        extension: id.extension,
        displayName: id.displayName ?? null,
        nodeId: office.nodeId,
        admin: id.admin,
      };
    },
    members: () =>
      office.overlay.members().map((m) => ({
        nodeId: m.nodeId,
        extension: m.user?.split('@')[0] ?? null,
        address: m.address,
        upSince: m.upSince ?? null,
        self: m.self,
      })),
    holdings: () =>
      office.overlay.holdings().map((h) => ({
        kind: h.kind,
        resource: h.key ? `${h.resourceName}#${h.key}` : h.resourceName,
        role: h.role,
        storedAt: h.storageTime,
        copies: h.copies,
      })),
    lookup: async (extension) => {
      const r = await office.lookup(extension);
      let contacts = r.contacts.map((c) => (c.address ? `${c.uri} (${c.address})` : c.uri));
      if (pbx) {
        // The SIP registration names where calls go: better than the overlay address.
        const regs = await pbx.lookup(extension).catch(() => []);
        if (regs.length > 0) contacts = regs.map((c) => c.uri);
        return { reachable: r.reachable || regs.length > 0, contacts };
      }
      return { reachable: r.reachable, contacts };
    },
    displayName: async (extension, nodeId) => {
      if (!pbx) return undefined;
      const values = await pbx.directory.values(
        userResourceName(extension, office.identity.office),
        'SIP-REGISTRATION',
      );
      for (const v of values) {
        if (v.key !== nodeId || !v.exists) continue;
        const d = decodeRegistration(v.value);
        if (d.ok && d.value.displayName) return d.value.displayName;
      }
      return undefined;
    },
    onMembership(listener) {
      const up = ({ nodeId }: { nodeId: string }) => listener({ type: 'up', nodeId });
      const down = ({ nodeId }: { nodeId: string }) => listener({ type: 'down', nodeId });
      office.overlay.on('member-up', up);
      office.overlay.on('member-down', down);
      const off = () => {
        office.overlay.off('member-up', up);
        office.overlay.off('member-down', down);
      };
      offs.push(off);
      return off;
    },
    invite: (extension) => ({ code: inviteToOffice(dataDir, extension).code }),
    joinRequests: office.enrollment ? joinRequestsHost(office.enrollment) : null,
    pbx: pbx ? pbxHost(pbx) : null,
    audio,
    settings: pbx ? settingsHost(pbx) : null,
    phones: pbx ? phonesHost(peer, office) : null,
    officeConfig: pbx ? officeConfigHost(office, pbx) : null,
    mailbox: peer.mailbox ?? null,
    presence: peer.presence ?? null,
    adminLocked: () => {
      const id = office.identity;
      if (!id.admin || !id.caKeyEncryptedPem) return false;
      // Opening the key is slow (PBKDF): once per host.
      locked ??= !peer.config.passphrase || !openCaKey(id.caKeyEncryptedPem, peer.config.passphrase).ok;
      return locked;
    },
    history: (limit) => {
      db ??= openDataDatabase(dataDir);
      return db.calls.list(limit);
    },
    close: () => {
      for (const off of offs.splice(0)) off();
      db?.close();
      db = null;
    },
  };
}
