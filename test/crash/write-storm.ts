// Child process of kill9.test.ts: writes records to a SqliteRecordStore in a tight loop and prints
// each key on stdout only after put() returned, i.e. after its commit. Stdout to a pipe is
// synchronous on Linux, so a printed line means the acknowledgement really left the process.

import { writeSync } from 'node:fs';
import { resourceIdFromName } from '../../src/core/records/ids.ts';
import { openPeerDatabase } from '../../src/main/store/peer-database.ts';

const [path, sync, prefix] = process.argv.slice(2);
const { records } = openPeerDatabase(path, { synchronous: sync === 'NORMAL' ? 'NORMAL' : 'FULL' });
const payload = new Uint8Array(2048).fill(7);

writeSync(1, 'ready\n');
for (let i = 0; ; i++) {
  const name = `${prefix}-${i}@office`;
  const outcome = records.put({
    resourceId: resourceIdFromName(name),
    resourceName: name,
    kind: 'TEST',
    model: 'dictionary',
    key: `k${i}`,
    value: payload,
    exists: true,
    storageTime: 1000 + i,
    lifetime: 3_600_000,
    signer: { nodeId: '0'.repeat(32), user: 'crash@office', certificate: 'not checked by the store' },
    signature: new Uint8Array([i & 0xff, (i >> 8) & 0xff]),
  });
  if (!outcome.ok) {
    writeSync(2, `put failed: ${outcome.reason}\n`);
    process.exit(1);
  }
  writeSync(1, `${name}\n`);
}
