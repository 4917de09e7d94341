// An admin PC's enrollment endpoint in process: the office created in `dir`, the CA key opened,
// the EnrollmentServer listening on a free loopback port. The caller closes what `closers` gets.
import { openCaKey } from '../../src/core/security/ca.ts';
import { EnrollmentServer, type EnrollmentServerOptions } from '../../src/main/enrollment/server.ts';
import { loadIdentity, openDataDatabase } from '../../src/main/identity/identity.ts';
import { createLogger } from '../../src/main/log.ts';
import { createOffice } from '../../src/main/office/office.ts';

const PASSPHRASE = 'passphrase-1';

export async function startAdminEndpoint(
  dir: string,
  name: string,
  closers: Array<() => unknown>,
  extra: Partial<EnrollmentServerOptions> = {},
) {
  createOffice({ dataDir: dir, name, extension: '101', passphrase: PASSPHRASE });
  const db = openDataDatabase(dir);
  closers.push(() => db.close());
  const identity = loadIdentity(dir, db);
  const ca = openCaKey(identity.caKeyEncryptedPem!, PASSPHRASE);
  if (!ca.ok) throw new Error(ca.reason);
  const server = new EnrollmentServer({
    identity,
    db,
    caPrivateKey: ca.privateKey,
    host: '127.0.0.1',
    port: 0,
    log: createLogger({ component: 'test' }),
    ...extra,
  });
  await server.start();
  closers.push(() => server.stop());
  return { dir, db, server, identity };
}
