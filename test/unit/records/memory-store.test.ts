import { MemoryRecordStore } from '../../../src/core/records/memory-store.ts';
import { recordStoreContract } from './store-contract.ts';

recordStoreContract('MemoryRecordStore', () => new MemoryRecordStore());
