// In-process OverlayRuntimes on 127.0.0.1 with memory stores and captured logs.
import { MemoryRecordStore } from '../../../src/core/records/memory-store.ts';
import { OverlayRuntime, type OverlayRuntimeOptions } from '../../../src/main/overlay/runtime.ts';
import { issuePeerCert, type TestCa, type TestPeerCert } from '../../helpers/certs.ts';
import { captureLogger, type LogEntry } from '../overlay-link/fixtures.ts';

export interface TestRuntime {
  rt: OverlayRuntime;
  cert: TestPeerCert;
  store: MemoryRecordStore;
  logs: LogEntry[];
  address: string;
}

export function makeRuntime(
  ca: TestCa,
  user: string,
  extra: Partial<OverlayRuntimeOptions> = {},
  cert: TestPeerCert = issuePeerCert(ca, { user }),
): TestRuntime {
  const logs: LogEntry[] = [];
  const store = new MemoryRecordStore();
  const rt = new OverlayRuntime({
    certPem: cert.certPem,
    keyPem: cert.keyPem,
    caPem: ca.certPem,
    store,
    host: '127.0.0.1',
    port: 0,
    joinTimeoutMs: 10_000,
    log: captureLogger(logs),
    ...extra,
  });
  const t: TestRuntime = { rt, cert, store, logs, address: '' };
  return t;
}

export async function startRuntime(t: TestRuntime): Promise<TestRuntime> {
  await t.rt.start();
  t.address = `127.0.0.1:${t.rt.port}`;
  return t;
}

/** Starts `users.length` runtimes, the first forming the overlay and the rest joining through it. */
export async function startOverlay(ca: TestCa, users: string[]): Promise<TestRuntime[]> {
  const first = await startRuntime(makeRuntime(ca, users[0]));
  const rest = await Promise.all(
    users.slice(1).map((u) => startRuntime(makeRuntime(ca, u, { bootstrap: [first.address] }))),
  );
  const all = [first, ...rest];
  await until(() => all.every((t) => t.rt.members().length === all.length), 15_000);
  return all;
}

export async function until(cond: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const text = (s: string) => new TextEncoder().encode(s);
export const untext = (b: Uint8Array) => new TextDecoder().decode(b);
