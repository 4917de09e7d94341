// RecordStore on SQLite. Same rules as MemoryRecordStore (shared slot/version/digest helpers);
// put() returns only after its transaction committed, which is what lets the overlay acknowledge.

import type Database from 'better-sqlite3';
import { compareVersions, digestOf, expiresAt } from '../../core/records/slot.ts';
import type {
  DataModel,
  KindName,
  RangeDigest,
  RecordStore,
  ResourceId,
  StoredValue,
  StoreOutcome,
} from '../../core/records/types.ts';
import { explainStorageError } from './storage-errors.ts';

interface Row {
  resource_id: string;
  kind: string;
  key: string;
  resource_name: string;
  model: string;
  value: Buffer;
  present: number;
  storage_time: number;
  lifetime: number;
  signer_node: string;
  signer_user: string;
  signer_cert: string;
  signature: Buffer;
}

const bytes = (b: Buffer) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

function fromRow(r: Row): StoredValue {
  return {
    resourceId: r.resource_id,
    resourceName: r.resource_name,
    kind: r.kind as KindName,
    model: r.model as DataModel,
    key: r.key,
    value: bytes(r.value),
    exists: r.present === 1,
    storageTime: r.storage_time,
    lifetime: r.lifetime,
    signer: { nodeId: r.signer_node, user: r.signer_user, certificate: r.signer_cert },
    signature: bytes(r.signature),
  };
}

function toParams(v: StoredValue) {
  return {
    resource_id: v.resourceId,
    kind: v.kind,
    key: v.key,
    resource_name: v.resourceName,
    model: v.model,
    value: v.value,
    present: v.exists ? 1 : 0,
    storage_time: v.storageTime,
    lifetime: v.lifetime,
    expires_at: expiresAt(v),
    signer_node: v.signer.nodeId,
    signer_user: v.signer.user,
    signer_cert: v.signer.certificate,
    signature: v.signature,
  };
}

/** The three shapes of a ring interval (from, to]: plain, wrapping past ff..ff, and the whole ring. */
type RangeShape = 'inner' | 'wrap' | 'all';
const RANGE_SQL: Record<RangeShape, string> = {
  inner: 'resource_id > @from AND resource_id <= @to',
  wrap: '(resource_id > @from OR resource_id <= @to)',
  all: '1',
};
const shapeOf = (from: string, to: string): RangeShape =>
  from === to ? 'all' : from < to ? 'inner' : 'wrap';

export class SqliteRecordStore implements RecordStore {
  private readonly q;
  private readonly putTx: (v: StoredValue) => StoreOutcome;
  private readonly putManyTx: (vs: readonly StoredValue[]) => StoreOutcome[];

  constructor(readonly db: Database.Database) {
    const rangeStatements = (sql: (where: string) => string) => ({
      inner: db.prepare(sql(RANGE_SQL.inner)),
      wrap: db.prepare(sql(RANGE_SQL.wrap)),
      all: db.prepare(sql(RANGE_SQL.all)),
    });
    this.q = {
      current: db.prepare<[string, string, string], { storage_time: number; signature: Buffer }>(
        'SELECT storage_time, signature FROM records WHERE resource_id = ? AND kind = ? AND key = ?',
      ),
      upsert: db.prepare(
        `INSERT INTO records (resource_id, kind, key, resource_name, model, value, present, storage_time, lifetime,
           expires_at, signer_node, signer_user, signer_cert, signature)
         VALUES (@resource_id, @kind, @key, @resource_name, @model, @value, @present, @storage_time, @lifetime,
           @expires_at, @signer_node, @signer_user, @signer_cert, @signature)
         ON CONFLICT (resource_id, kind, key) DO UPDATE SET resource_name = excluded.resource_name,
           model = excluded.model, value = excluded.value, present = excluded.present,
           storage_time = excluded.storage_time, lifetime = excluded.lifetime, expires_at = excluded.expires_at,
           signer_node = excluded.signer_node, signer_user = excluded.signer_user,
           signer_cert = excluded.signer_cert, signature = excluded.signature`,
      ),
      getAll: db.prepare('SELECT * FROM records WHERE resource_id = ? AND expires_at > ?'),
      getKind: db.prepare('SELECT * FROM records WHERE resource_id = ? AND kind = ? AND expires_at > ?'),
      getKey: db.prepare(
        'SELECT * FROM records WHERE resource_id = ? AND kind = ? AND key = ? AND expires_at > ?',
      ),
      range: rangeStatements((w) => `SELECT * FROM records WHERE ${w} AND expires_at > @now`),
      digest: rangeStatements(
        (w) => `SELECT resource_id, kind, key, storage_time FROM records WHERE ${w} AND expires_at > @now`,
      ),
      drop: rangeStatements((w) => `DELETE FROM records WHERE ${w}`),
      expire: db.prepare('DELETE FROM records WHERE expires_at <= ?'),
      ids: db.prepare('SELECT DISTINCT resource_id FROM records').pluck(),
      count: db.prepare('SELECT COUNT(*) FROM records').pluck(),
    };
    this.putTx = db.transaction((v: StoredValue) => this.putInTx(v));
    this.putManyTx = db.transaction((vs: readonly StoredValue[]) => vs.map((v) => this.putInTx(v)));
  }

  /**
   * Throws when SQLite cannot commit (a full disk, a read-only folder): the error names the cause
   * (storage-errors.ts) so the overlay can refuse the store with it and log it with context.
   */
  put(value: StoredValue): StoreOutcome {
    try {
      return this.putTx(value);
    } catch (e) {
      throw this.explained(e);
    }
  }

  /** Many values in one transaction (one fsync): for range hand-over and re-replication. */
  putMany(values: readonly StoredValue[]): StoreOutcome[] {
    try {
      return this.putManyTx(values);
    } catch (e) {
      throw this.explained(e);
    }
  }

  private explained(e: unknown): unknown {
    return this.db.memory ? e : explainStorageError(e, this.db.name, 'write a record to');
  }

  private putInTx(v: StoredValue): StoreOutcome {
    const cur = this.q.current.get(v.resourceId, v.kind, v.key);
    if (cur) {
      const order = compareVersions(v, { storageTime: cur.storage_time, signature: bytes(cur.signature) });
      if (order === 0) return { ok: true, replaced: false };
      if (order < 0) {
        return {
          ok: false,
          code: 'stale',
          reason: `slot holds a newer value (storageTime ${cur.storage_time})`,
        };
      }
    }
    this.q.upsert.run(toParams(v));
    return { ok: true, replaced: cur !== undefined };
  }

  get(resourceId: ResourceId, now: number, kind?: KindName, key?: string): StoredValue[] {
    let rows: unknown[];
    if (kind === undefined) rows = this.q.getAll.all(resourceId, now);
    else if (key === undefined) rows = this.q.getKind.all(resourceId, kind, now);
    else rows = this.q.getKey.all(resourceId, kind, key, now);
    if (kind === undefined && key !== undefined) rows = (rows as Row[]).filter((r) => r.key === key);
    return (rows as Row[]).map(fromRow);
  }

  range(from: ResourceId, to: ResourceId, now: number): StoredValue[] {
    return (this.q.range[shapeOf(from, to)].all({ from, to, now }) as Row[]).map(fromRow);
  }

  dropRange(from: ResourceId, to: ResourceId): number {
    const shape = shapeOf(from, to);
    return this.q.drop[shape].run(shape === 'all' ? {} : { from, to }).changes;
  }

  digest(from: ResourceId, to: ResourceId, now: number): RangeDigest {
    const rows = this.q.digest[shapeOf(from, to)].all({ from, to, now }) as Array<
      Pick<Row, 'resource_id' | 'kind' | 'key' | 'storage_time'>
    >;
    return digestOf(
      rows.map((r) => ({
        resourceId: r.resource_id,
        kind: r.kind as KindName,
        key: r.key,
        storageTime: r.storage_time,
      })),
    );
  }

  expire(now: number): number {
    return this.q.expire.run(now).changes;
  }

  resourceIds(): ResourceId[] {
    return this.q.ids.all() as string[];
  }

  count(): number {
    return this.q.count.get() as number;
  }
}
