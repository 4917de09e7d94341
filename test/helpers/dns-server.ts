// A tiny authoritative DNS server on UDP for tests (RFC 1035 wire format, hand-encoded): answers
// A, AAAA, SRV (RFC 2782) and NAPTR (RFC 3403) from a zone table, NXDOMAIN for unknown names and
// an empty answer for known names without that type. Counts the questions it got.
import { createSocket, type Socket } from 'node:dgram';

export interface ZoneRecords {
  A?: string[];
  AAAA?: string[];
  SRV?: Array<{ priority: number; weight: number; port: number; target: string }>;
  NAPTR?: Array<{
    order: number;
    preference: number;
    flags: string;
    service: string;
    regexp: string;
    replacement: string;
  }>;
}

const TYPES: Record<number, keyof ZoneRecords> = { 1: 'A', 28: 'AAAA', 33: 'SRV', 35: 'NAPTR' };
const CODES: Record<keyof ZoneRecords, number> = { A: 1, AAAA: 28, SRV: 33, NAPTR: 35 };

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

function encodeName(name: string): Buffer {
  const labels = name.replace(/\.$/, '').split('.').filter(Boolean);
  return Buffer.concat([
    ...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])),
    Buffer.from([0]),
  ]);
}

function charString(s: string): Buffer {
  return Buffer.concat([Buffer.from([s.length]), Buffer.from(s)]);
}

function ipv6(addr: string): Buffer {
  const [head, tail = ''] = addr.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return Buffer.concat(groups.map((g) => u16(Number.parseInt(g, 16))));
}

function rdata(type: keyof ZoneRecords, rec: unknown): Buffer {
  switch (type) {
    case 'A':
      return Buffer.from(String(rec).split('.').map(Number));
    case 'AAAA':
      return ipv6(String(rec));
    case 'SRV': {
      const r = rec as NonNullable<ZoneRecords['SRV']>[number];
      return Buffer.concat([u16(r.priority), u16(r.weight), u16(r.port), encodeName(r.target)]);
    }
    case 'NAPTR': {
      const r = rec as NonNullable<ZoneRecords['NAPTR']>[number];
      return Buffer.concat([
        u16(r.order),
        u16(r.preference),
        charString(r.flags),
        charString(r.service),
        charString(r.regexp),
        encodeName(r.replacement),
      ]);
    }
  }
}

/** The question of a query: name, type code and where the question section ends. */
function question(msg: Buffer): { name: string; type: number; end: number } | null {
  let i = 12;
  const labels: string[] = [];
  while (i < msg.length && msg[i] !== 0) {
    const len = msg[i];
    if (len > 63 || i + 1 + len > msg.length) return null;
    labels.push(msg.subarray(i + 1, i + 1 + len).toString());
    i += 1 + len;
  }
  if (i + 5 > msg.length) return null;
  return { name: labels.join('.').toLowerCase(), type: msg.readUInt16BE(i + 1), end: i + 5 };
}

export class TestDnsServer {
  /** Questions received, as "TYPE name". */
  readonly asked: string[] = [];

  private constructor(
    private readonly socket: Socket,
    readonly zone: Record<string, ZoneRecords>,
  ) {
    socket.on('message', (msg, rinfo) => {
      const reply = this.answer(msg);
      if (reply) socket.send(reply, rinfo.port, rinfo.address);
    });
  }

  static start(zone: Record<string, ZoneRecords>, host = '127.0.0.1'): Promise<TestDnsServer> {
    const socket = createSocket('udp4');
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, host, () => resolve(new TestDnsServer(socket, zone)));
    });
  }

  /** host:port, the form node:dns setServers and PEERPBX_DNS_SERVERS take. */
  get address(): string {
    const a = this.socket.address();
    return `${a.address}:${a.port}`;
  }

  close(): Promise<void> {
    return new Promise((r) => this.socket.close(() => r()));
  }

  private answer(msg: Buffer): Buffer | null {
    if (msg.length < 12) return null;
    const q = question(msg);
    if (!q) return null;
    const type = TYPES[q.type];
    this.asked.push(`${type ?? q.type} ${q.name}`);
    const node = this.zone[q.name];
    const records: unknown[] = node && type ? (node[type] ?? []) : [];
    const answers = records.map((r) => {
      const data = rdata(type as keyof ZoneRecords, r);
      // Name: a pointer to the question's name (offset 12); class IN, TTL 60.
      return Buffer.concat([
        u16(0xc00c),
        u16(CODES[type as keyof ZoneRecords]),
        u16(1),
        u16(0),
        u16(60),
        u16(data.length),
        data,
      ]);
    });
    const flags = 0x8400 | (msg.readUInt16BE(2) & 0x0100) | (node ? 0 : 3); // QR AA, RD copied, NXDOMAIN
    const header = Buffer.concat([
      msg.subarray(0, 2),
      u16(flags),
      u16(1),
      u16(answers.length),
      u16(0),
      u16(0),
    ]);
    return Buffer.concat([header, msg.subarray(12, q.end), ...answers]);
  }
}
