// The RTP measurement receiver of the RTP benchmarks, in its own process (so the senders' event
// loop does not colour its timestamps): per stream (source port) it records sequence numbers and
// arrival times; each report gives loss (sequence gaps) and each packet's deviation from the ideal
// 20 ms grid (offset removed by the median), p50/p99/max of |deviation|, then starts over.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';

// The receiver: records (source port, sequence, arrival) and reports per-phase statistics.
const RECEIVER = `
const dgram = require('node:dgram');
const s = dgram.createSocket('udp4');
let streams = new Map();
s.on('message', (m, r) => {
  const t = Number(process.hrtime.bigint()) / 1e6;
  let st = streams.get(r.port);
  if (!st) streams.set(r.port, st = { seqs: [], times: [] });
  st.seqs.push(m.readUInt16BE(2)); st.times.push(t);
});
s.bind(0, '127.0.0.1', () => {
  // Bursts of N packets per tick (N streams): a default 208 KiB buffer would drop, not the senders.
  try { s.setRecvBufferSize(4 * 1024 * 1024); } catch {}
  console.log(JSON.stringify({ port: s.address().port }));
});
const pct = (a, p) => a.length ? a[Math.min(a.length - 1, Math.max(0, Math.ceil(p / 100 * a.length) - 1))] : 0;
require('node:readline').createInterface({ input: process.stdin }).on('line', () => {
  const dev = []; let received = 0, expected = 0;
  for (const st of streams.values()) {
    if (st.seqs.length < 10) continue;
    // Unwrap sequence numbers; index k on the grid is seq - firstSeq.
    let base = st.seqs[0], prev = base, ext = 0, maxK = 0;
    const d = [];
    for (let i = 0; i < st.seqs.length; i++) {
      let delta = ((st.seqs[i] - prev) << 16) >> 16; ext += delta; prev = st.seqs[i];
      maxK = Math.max(maxK, ext);
      d.push(st.times[i] - st.times[0] - ext * 20);
    }
    const sorted = [...d].sort((a, b) => a - b); const med = pct(sorted, 50);
    for (const x of d) dev.push(Math.abs(x - med));
    received += st.seqs.length; expected += maxK + 1;
  }
  dev.sort((a, b) => a - b);
  console.log(JSON.stringify({ streams: streams.size, received, expected, p50: pct(dev, 50), p99: pct(dev, 99), max: dev.length ? dev[dev.length - 1] : 0 }));
  streams = new Map();
});
`;

// Preferred receiver: Python with SO_TIMESTAMPNS, so arrival times are the kernel's and the
// receiver's own scheduling delays do not count against the sender. The Node one is the fallback.
const RECEIVER_PY = `import json, socket, struct, sys, threading
SO_TIMESTAMPNS = 35  # Linux: the kernel stamps each datagram on arrival (scheduling-proof)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
s.bind(('127.0.0.1', 0))
print(json.dumps({'port': s.getsockname()[1]}), flush=True)
lock = threading.Lock()
streams = {}
def rx():
    while True:
        data, anc, _, addr = s.recvmsg(2048, 256)
        t = None
        for level, kind, d in anc:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                sec, nsec = struct.unpack('qq', d[:16]); t = sec * 1000 + nsec / 1e6
        if t is None or len(data) < 12: continue
        with lock:
            streams.setdefault(addr[1], ([], []))
            st = streams[addr[1]]; st[0].append(struct.unpack('!H', data[2:4])[0]); st[1].append(t)
threading.Thread(target=rx, daemon=True).start()
def pct(a, p):
    if not a: return 0
    import math
    return a[min(len(a) - 1, max(0, math.ceil(p / 100 * len(a)) - 1))]
for _ in sys.stdin:
    global_streams = None
    with lock:
        global_streams = dict(streams); streams.clear()
    dev = []; received = 0; expected = 0
    for seqs, times in global_streams.values():
        if len(seqs) < 10: continue
        prev = seqs[0]; ext = 0; maxk = 0; d = []
        for q, t in zip(seqs, times):
            delta = ((q - prev + 32768) % 65536) - 32768; ext += delta; prev = q
            maxk = max(maxk, ext); d.append(t - times[0] - ext * 20)
        med = pct(sorted(d), 50)
        dev.extend(abs(x - med) for x in d)
        received += len(seqs); expected += maxk + 1
    dev.sort()
    print(json.dumps({'streams': len(global_streams), 'received': received, 'expected': expected,
                      'p50': pct(dev, 50), 'p99': pct(dev, 99), 'max': dev[-1] if dev else 0}), flush=True)
`;

export interface PhaseResult {
  streams: number;
  received: number;
  expected: number;
  p50: number;
  p99: number;
  max: number;
}

export class Receiver {
  private lines: string[] = [];
  private waiters: Array<(l: string) => void> = [];
  private constructor(private readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (l) => {
      const w = this.waiters.shift();
      if (w) w(l);
      else this.lines.push(l);
    });
  }
  static async start(): Promise<{ rx: Receiver; port: number; kind: string }> {
    const py = spawnSync('python3', ['-c', 'import socket'], { stdio: 'ignore' }).status === 0;
    const child = py
      ? spawn('python3', ['-c', RECEIVER_PY], { stdio: ['pipe', 'pipe', 'inherit'] })
      : spawn(process.execPath, ['-e', RECEIVER], { stdio: ['pipe', 'pipe', 'inherit'] });
    const rx = new Receiver(child);
    const { port } = JSON.parse(await rx.line());
    return { rx, port, kind: py ? 'kernel arrival timestamps (SO_TIMESTAMPNS)' : 'Node receiver clock' };
  }
  private line(): Promise<string> {
    const l = this.lines.shift();
    return l !== undefined ? Promise.resolve(l) : new Promise((r) => this.waiters.push(r));
  }
  async report(): Promise<PhaseResult> {
    this.child.stdin!.write('report\n');
    return JSON.parse(await this.line());
  }
  stop(): void {
    this.child.kill();
  }
}
