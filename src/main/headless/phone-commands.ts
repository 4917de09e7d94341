// `peerpbx phone add`: a desk-phone account served by this peer's registrar. Written to the data
// folder's settings (so it works whether or not the peer runs); a running peer is then told through
// the control channel and serves it at once.
import { resolve } from 'node:path';
import { askPeer, NoRunningPeer } from '../control/client.ts';
import { hasIdentity, IdentityError, loadIdentity, openDataDatabase } from '../identity/identity.ts';
import { addDeskPhoneAccount } from '../office/desk-phone-accounts.ts';

export async function phoneAddCommand(o: {
  data: string;
  extension: string;
  password: string;
}): Promise<void> {
  const dataDir = resolve(o.data);
  // The digest realm is the office name: an account means nothing before the folder is enrolled.
  if (!hasIdentity(dataDir))
    throw new IdentityError(
      `data folder ${dataDir} is not in an office: run \`peerpbx office create\` or \`peerpbx join\` first`,
    );
  const db = openDataDatabase(dataDir);
  let replaced: boolean;
  let office: string;
  try {
    office = loadIdentity(dataDir, db).office;
    replaced = addDeskPhoneAccount(db.settings, {
      extension: o.extension,
      password: o.password,
      realm: office,
    });
  } finally {
    db.close();
  }
  const what = `desk-phone account ${o.extension}@${office} ${replaced ? 'updated' : 'added'}`;
  try {
    await askPeer(dataDir, { op: 'reload-desk-phones' });
    process.stdout.write(`${what}; the running peer serves it now\n`);
  } catch (err) {
    if (!(err instanceof NoRunningPeer))
      throw new Error(`${what}, but the running peer did not take it: ${(err as Error).message}`);
    process.stdout.write(`${what}; served when the peer runs (\`peerpbx run --data ${o.data}\`)\n`);
  }
}
