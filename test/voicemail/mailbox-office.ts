// A voicemail office for the real-process proof and the benchmark: enrolled in process (the admin's
// CA issues certificates directly, as `office approve` does), a depositor PC running in this
// process (OfficeNode), and deposits built the way a caller's peer builds them.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { resourceIdFromName } from '../../src/core/records/ids.ts';
import type { VoicemailEntryData } from '../../src/core/records/kinds.ts';
import { openCaKey } from '../../src/core/security/ca.ts';
import { readCertificateIdentityPem } from '../../src/core/security/certificates.ts';
import { nodeSignatureProvider } from '../../src/core/security/signature-provider.ts';
import { ValueSigner } from '../../src/core/security/value-signing.ts';
import { buildVoicemailDeposit, type VoicemailDeposit } from '../../src/core/security/voicemail-deposit.ts';
import { type Identity, loadIdentity, openDataDatabase } from '../../src/main/identity/identity.ts';
import { createLogger } from '../../src/main/log.ts';
import { createOffice } from '../../src/main/office/office.ts';
import { OfficeNode } from '../../src/main/office/office-node.ts';
import type { PeerDatabase } from '../../src/main/store/peer-database.ts';
import { enrollFolder } from '../helpers/enroll-folder.ts';
import { PASSPHRASE } from '../office/harness.ts';

export const OFFICE = 'office';
const DAY = 86_400_000;
const random = (n: number) => new Uint8Array(randomBytes(n));

export interface VoicemailOffice {
  /** extension -> data folder */
  dirs: Record<string, string>;
  /** extension -> Node-ID */
  nodeIds: Record<string, string>;
}

/** Creates the office (first extension = admin) and enrolls the others, each in `root/EXT`. */
export function enrollOffice(root: string, extensions: string[]): VoicemailOffice {
  process.env.PEERPBX_CA_KDF_ITERATIONS ??= '2000';
  const dirs = Object.fromEntries(extensions.map((e) => [e, join(root, e)]));
  const [first, ...rest] = extensions;
  const admin = createOffice({
    dataDir: dirs[first],
    name: OFFICE,
    extension: first,
    passphrase: PASSPHRASE,
  });
  const adminId = readCertificateIdentityPem(admin.certPem);
  if (!adminId.ok) throw new Error(adminId.reason);
  const nodeIds: Record<string, string> = { [first]: adminId.identity.nodeId };
  const ca = openCaKey(admin.caKeyEncryptedPem as string, PASSPHRASE);
  if (!ca.ok) throw new Error(ca.reason);
  const officeCa = {
    office: OFFICE,
    caPem: admin.caPem,
    caFingerprint: admin.caFingerprint,
    caKey: ca.privateKey,
  };
  for (const extension of rest)
    nodeIds[extension] = enrollFolder(officeCa, dirs[extension], extension, Date.now() - 60_000);
  return { dirs, nodeIds };
}

export function identityOf(dir: string): Identity {
  const db = openDataDatabase(dir);
  try {
    return loadIdentity(dir, db);
  } finally {
    db.close();
  }
}

/** The responsible peer of a resource and its two replicas: the next three Node-IDs on the ring. */
export function ringHolders(resource: string, nodeIds: string[]): string[] {
  const rid = resourceIdFromName(resource);
  const ring = [...nodeIds].sort();
  const first = Math.max(
    0,
    ring.findIndex((id) => id >= rid),
  );
  return [0, 1, 2].map((i) => ring[(first + i) % ring.length]);
}

/** A member PC running in this process: its overlay, identity and signer. */
export interface InProcessPc {
  node: OfficeNode;
  db: PeerDatabase;
  identity: Identity;
  signer: ValueSigner;
  stop(): Promise<void>;
}

export async function startInProcess(dir: string, bootstrap: string[]): Promise<InProcessPc> {
  const db = openDataDatabase(dir);
  const identity = loadIdentity(dir, db);
  const node = await OfficeNode.start({
    identity,
    db,
    bind: '127.0.0.1',
    overlayPort: 0,
    sipPort: 0,
    peers: bootstrap,
    discovery: { mdns: false, broadcast: false },
    log: createLogger({ pc: identity.extension }),
  });
  const signer = new ValueSigner(
    { nodeId: node.nodeId, user: identity.user, certificate: identity.certPem },
    identity.keyPem,
    nodeSignatureProvider(),
  );
  return {
    node,
    db,
    identity,
    signer,
    stop: async () => {
      await node.stop().catch(() => {});
      db.close();
    },
  };
}

/** The records a caller's peer writes for a message of `wav` to `owner` (encrypted to its cert). */
export function depositFor(
  from: InProcessPc,
  owner: { user: string; certPem: string },
  wav: Uint8Array,
  durationMs: number,
): VoicemailDeposit & { meta: VoicemailEntryData } {
  const d = buildVoicemailDeposit({
    owner: owner.user,
    ownerCertificatePem: owner.certPem,
    audio: wav,
    from: from.identity.extension,
    time: Date.now(),
    duration: durationMs,
    unique: randomBytes(6).toString('hex'),
    signer: from.signer,
    now: Date.now(),
    lifetime: 30 * DAY,
    random,
  });
  const meta = JSON.parse(new TextDecoder().decode(d.entry.value)) as VoicemailEntryData;
  return { ...d, meta };
}
