// Child process for the leak test: two peers join, store, fetch and watch, then stop. The process
// must then exit on its own (no timer, socket or server left); it never calls process.exit.
import { MemoryRecordStore } from '../../../src/core/records/memory-store.ts';
import { setLogLevel } from '../../../src/main/log.ts';
import { OverlayRuntime } from '../../../src/main/overlay/runtime.ts';
import { issuePeerCert, makeCa } from '../../helpers/certs.ts';

setLogLevel('error');
const ca = makeCa('Exit Office');
const make = (user: string, bootstrap: string[] = []) => {
  const cert = issuePeerCert(ca, { user });
  return new OverlayRuntime({
    certPem: cert.certPem,
    keyPem: cert.keyPem,
    caPem: ca.certPem,
    store: new MemoryRecordStore(),
    host: '127.0.0.1',
    bootstrap,
  });
};
const a = make('101@office');
await a.start();
const b = make('102@office', [`127.0.0.1:${a.port}`]);
await b.start();
const w = await b.watch('101@office/x', 'TEST', () => {});
await a.store([a.sign('101@office/x', 'TEST', new TextEncoder().encode('v'), 60_000, { key: 'k' })]);
const got = await b.fetch('101@office/x');
if (got.values.length !== 1) throw new Error('fetch failed');
w.cancel();
await b.stop({ graceful: true });
await a.stop({ graceful: true });
const stoppedAt = Date.now();
process.stdout.write('stopped\n');
process.on('exit', () => process.stdout.write(`exit-after-stop-ms ${Date.now() - stoppedAt}\n`));
