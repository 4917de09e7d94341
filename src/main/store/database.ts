// The peer's SQLite database (better-sqlite3, WAL): records held as responsible peer or replica,
// identity/settings, peer cache and call history, one file in the data folder.
//
// Durability: journal_mode=WAL with synchronous=FULL by default. A put is acknowledged only after
// its transaction commits; in WAL mode the commit appends the frames to the -wal file with write()
// and, with FULL, fsyncs it before returning. kill -9 alone would be survived with NORMAL too (the
// written WAL frames live in the OS page cache, which outlives the process), but NORMAL may lose the
// last commits on power loss or an OS crash. An acknowledged voicemail must survive the PC's power
// being cut, so FULL; NORMAL is available for tests and benchmarks.

import Database from 'better-sqlite3';
import { explainStorageError, storageProblem } from './storage-errors.ts';

export type Synchronous = 'FULL' | 'NORMAL';

export interface OpenOptions {
  synchronous?: Synchronous;
  readonly?: boolean;
}

const SCHEMA_VERSION = 1;

const MIGRATIONS: Record<number, string> = {
  1: `
    CREATE TABLE records (
      resource_id   TEXT NOT NULL,   -- 32 lower-case hex: text order is ring order
      kind          TEXT NOT NULL,
      key           TEXT NOT NULL,
      resource_name TEXT NOT NULL,
      model         TEXT NOT NULL,
      value         BLOB NOT NULL,
      present       INTEGER NOT NULL, -- StoredValue.exists (0 = tombstone)
      storage_time  INTEGER NOT NULL,
      lifetime      INTEGER NOT NULL,
      expires_at    INTEGER NOT NULL,
      signer_node   TEXT NOT NULL,
      signer_user   TEXT NOT NULL,
      signer_cert   TEXT NOT NULL,
      signature     BLOB NOT NULL,
      PRIMARY KEY (resource_id, kind, key)
    );
    CREATE INDEX records_expiry ON records (expires_at);
    CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE peers (node_id TEXT PRIMARY KEY, address TEXT NOT NULL, last_seen INTEGER NOT NULL);
    CREATE INDEX peers_last_seen ON peers (last_seen);
    CREATE TABLE call_history (
      id          INTEGER PRIMARY KEY AUTOINCREMENT,
      started_at  INTEGER NOT NULL,
      direction   TEXT NOT NULL,
      local_user  TEXT NOT NULL,
      remote      TEXT NOT NULL,
      duration_ms INTEGER NOT NULL,
      outcome     TEXT NOT NULL
    );
    CREATE INDEX call_history_started ON call_history (started_at);
  `,
};

/** Opens (creating and migrating if needed) the database at `path` (':memory:' for tests). */
export function openDatabase(path: string, opts: OpenOptions = {}): Database.Database {
  // Refuse up front rather than open read-only by accident and fail at the first acknowledged write.
  const problem = opts.readonly || path === ':memory:' ? null : storageProblem(path);
  if (problem) throw new Error(`cannot open the database ${path} for writing: ${problem}`);
  let db: Database.Database | null = null;
  try {
    db = new Database(path, { readonly: opts.readonly ?? false });
    db.pragma('busy_timeout = 5000');
    if (!opts.readonly) {
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${opts.synchronous ?? 'FULL'}`);
      migrate(db);
    }
    return db;
  } catch (err) {
    // A full disk or read-only mount surfaces as "disk I/O error": say which, in one line.
    db?.close();
    throw path === ':memory:' ? err : explainStorageError(err, path, 'open the database');
  }
}

function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new Error(`database schema ${current} is newer than this PeerPBX understands (${SCHEMA_VERSION})`);
  }
  for (let v = current + 1; v <= SCHEMA_VERSION; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]);
      db.pragma(`user_version = ${v}`);
    })();
  }
}
