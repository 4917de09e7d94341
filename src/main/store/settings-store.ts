// Identity and settings: a key/value table. Values are JSON so callers keep their own types.

import type Database from 'better-sqlite3';

export class SettingsStore {
  private readonly q;

  constructor(db: Database.Database) {
    this.q = {
      get: db.prepare<[string], string>('SELECT value FROM settings WHERE key = ?').pluck(),
      set: db.prepare(
        'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      ),
      del: db.prepare('DELETE FROM settings WHERE key = ?'),
      keys: db.prepare<[], string>('SELECT key FROM settings ORDER BY key').pluck(),
    };
  }

  get<T>(key: string): T | undefined {
    const raw = this.q.get.get(key);
    return raw === undefined ? undefined : (JSON.parse(raw) as T);
  }

  set(key: string, value: unknown): void {
    this.q.set.run(key, JSON.stringify(value));
  }

  delete(key: string): boolean {
    return this.q.del.run(key).changes > 0;
  }

  keys(): string[] {
    return this.q.keys.all();
  }
}
