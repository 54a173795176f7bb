export { mapStoreError, openStore, type Store, type Db, type Tables, type OpenStoreParameters, type ReadQuery } from "./open-store.js";
export * from "./chain-data.js";
export * from "./errors.js";
export { acquireInstanceLock, loadInstanceLocks, LOCK_TTL_MS, type AcquireInstanceLockParameters, type InstanceLock, type InstanceLockInfo } from "./instance-lock.js";
export { addBlockEventSink, type BlockAppliedEvent, type BlockEventSink, type BlocksRolledBackEvent, type StoredChange } from "./block-events.js";
export * from "./load-balance-lines.js";
export * from "./load-balance-history.js";
export * from "./load-chain-states.js";
export * from "./load-wallets.js";
