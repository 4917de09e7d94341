// The storing peer's path for one value: refuse it if already expired, validate it against the
// slot's current value (DEPOSIT needs `existing`), then store it. A Store is acknowledged only on ok.

import { isLive } from './slot.ts';
import type { RecordStore, StoredValue, StoreOutcome, ValueValidator } from './types.ts';

export function checkedPut(
  store: RecordStore,
  validator: ValueValidator,
  value: StoredValue,
  now: number,
): StoreOutcome {
  if (!isLive(value, now)) {
    return { ok: false, code: 'expired', reason: `lifetime ended at ${value.storageTime + value.lifetime}` };
  }
  const existing = store.get(value.resourceId, now, value.kind, value.key)[0];
  const check = validator.validate(value, now, existing);
  if (!check.ok) return check;
  return store.put(value);
}
