// Everything a peer keeps on disk, opened together from one file in the data folder.

import type Database from 'better-sqlite3';
import { CallHistory } from './call-history.ts';
import { type OpenOptions, openDatabase } from './database.ts';
import { PeerCache } from './peer-cache.ts';
import { SettingsStore } from './settings-store.ts';
import { SqliteRecordStore } from './sqlite-record-store.ts';

export interface PeerDatabase {
  db: Database.Database;
  records: SqliteRecordStore;
  settings: SettingsStore;
  peers: PeerCache;
  calls: CallHistory;
  close(): void;
}

export function openPeerDatabase(path: string, opts: OpenOptions = {}): PeerDatabase {
  const db = openDatabase(path, opts);
  return {
    db,
    records: new SqliteRecordStore(db),
    settings: new SettingsStore(db),
    peers: new PeerCache(db),
    calls: new CallHistory(db),
    close: () => db.close(),
  };
}
