// One overlay peer as a real process, for the multi-process tests (run with `node --import tsx`).
// A thin stand-in for `peerpbx run` until the coordinator wires OverlayRuntime into it.
//   --data DIR --cert PEM --key PEM --ca PEM [--host H] [--port N] [--bootstrap host:port]...
//   [--join-timeout MS]
// stdout: one JSON line per event: {"event":"ready",nodeId,user,port,held} once joined, then one
// answer per control request. stdin: JSON lines {id, op, ...}:
//   store {name, value, key?, forge?}  a TEST value signed as this peer (forge: corrupt it after signing)
//   fetch {name}                       -> values [{key, value, user}]
//   holders                            -> holdings [{name, kind, key, role, copies}]
//   trace-copies {name}                samples this peer's measured copies of `name` every 50 ms
//   copies-trace                       -> trace ["role:copies", ...] (each change once, in order)
//   members                            -> members [{nodeId, user, address}]
//   count                              -> records in the local store
//   stop                               -> graceful leave, then exit
// Logs (JSON lines) go to stderr. SIGTERM or stdin closing: graceful stop.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { OverlayError, OverlayRuntime } from '../../src/main/overlay/runtime.ts';
import { openPeerDatabase } from '../../src/main/store/peer-database.ts';

const { values: args } = parseArgs({
  options: {
    data: { type: 'string' },
    cert: { type: 'string' },
    key: { type: 'string' },
    ca: { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '0' },
    bootstrap: { type: 'string', multiple: true, default: [] },
    'join-timeout': { type: 'string', default: '30000' },
  },
});

function out(obj: unknown): void {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

if (!args.data || !args.cert || !args.key || !args.ca) {
  out({ event: 'error', reason: 'need --data --cert --key --ca' });
  process.exit(2);
}

const db = openPeerDatabase(join(args.data, 'peer.db'));
const held = db.records.count();
const runtime = new OverlayRuntime({
  certPem: readFileSync(args.cert, 'utf8'),
  keyPem: readFileSync(args.key, 'utf8'),
  caPem: readFileSync(args.ca, 'utf8'),
  store: db.records,
  host: args.host,
  port: Number(args.port),
  bootstrap: args.bootstrap,
  joinTimeoutMs: Number(args['join-timeout']),
});

let stopping = false;
async function shutdown(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    await runtime.stop({ graceful: true });
    db.close();
  }
  process.exit(code);
}

const TEXT = new TextEncoder();
const trace: string[] = [];
const LIFETIME = 3600_000;

type Req = { id: number; op: string; name?: string; value?: string; key?: string; forge?: boolean };

async function handle(req: Req): Promise<Record<string, unknown>> {
  switch (req.op) {
    case 'store': {
      const v = runtime.sign(req.name ?? '', 'TEST', TEXT.encode(req.value ?? ''), LIFETIME, {
        key: req.key ?? 'v',
      });
      if (req.forge) v.value = TEXT.encode(`${req.value ?? ''} (altered after signing)`);
      const ack = await runtime.store([v]);
      return { copies: ack.copies };
    }
    case 'fetch': {
      const r = await runtime.fetch(req.name ?? '', 'TEST');
      const dec = new TextDecoder();
      return {
        values: r.values.map((v) => ({ key: v.key, value: dec.decode(v.value), user: v.signer.user })),
        rejected: r.rejected,
        hops: r.hops,
      };
    }
    case 'holders':
      return {
        holdings: runtime
          .holdings()
          .map((h) => ({ name: h.resourceName, kind: h.kind, key: h.key, role: h.role, copies: h.copies })),
      };
    case 'trace-copies': {
      // Sampled in-process: a short dip (between failure detection and re-replication) is not missed.
      const sample = () => {
        const h = runtime.holdings().find((x) => x.resourceName === req.name);
        const s = h ? `${h.role}:${h.copies}` : 'none';
        if (trace.at(-1) !== s) trace.push(s);
      };
      sample();
      setInterval(sample, 50).unref();
      return {};
    }
    case 'copies-trace':
      return { trace };
    case 'members':
      return {
        members: runtime.members().map((m) => ({ nodeId: m.nodeId, user: m.user, address: m.address })),
      };
    case 'count':
      return { count: db.records.count() };
    case 'stop':
      setImmediate(() => void shutdown(0));
      return {};
    default:
      throw new OverlayError('invalid', `unknown op ${req.op}`);
  }
}

process.on('SIGTERM', () => void shutdown(0));

const startAt = Date.now();
try {
  await runtime.start();
} catch (e) {
  out({ event: 'start-failed', reason: e instanceof Error ? e.message : String(e) });
  db.close();
  process.exit(1);
}
out({
  event: 'ready',
  nodeId: runtime.nodeId,
  user: runtime.user,
  port: runtime.port,
  held,
  // Where start-up time goes: loading the process vs listening + joining.
  bootMs: Math.round(process.uptime() * 1000) - (Date.now() - startAt),
  joinMs: Date.now() - startAt,
});

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  let req: Req;
  try {
    req = JSON.parse(line) as Req;
  } catch {
    out({ ok: false, code: 'invalid', reason: 'not JSON' });
    return;
  }
  handle(req).then(
    (r) => out({ id: req.id, ok: true, ...r }),
    (e: unknown) =>
      out(
        e instanceof OverlayError
          ? { id: req.id, ok: false, code: e.code, reason: e.reason }
          : { id: req.id, ok: false, code: 'error', reason: String(e) },
      ),
  );
});
rl.on('close', () => void shutdown(0));
