export { mapStoreError, openStore, type Store, type Db, type Tables, type OpenStoreParameters, type ReadQuery } from "./open-store.js";
export * from "./chain-data.js";
export * from "./errors.js";
export { acquireInstanceLock, loadInstanceLocks, LOCK_TTL_MS, type AcquireInstanceLockParameters, type InstanceLock, type InstanceLockInfo } from "./instance-lock.js";
export { addBlockEventSink, type BlockAppliedEvent, type BlockEventSink, type BlocksRolledBackEvent, type StoredChange, type WalletBackfilledEvent } from "./block-events.js";
export * from "./load-balance-lines.js";
export * from "./load-balance-history.js";
export * from "./load-chain-states.js";
export * from "./load-wallets.js";
export { loadDbNowMs, sqlNowMs } from "./db-clock.js";
export { loadFirstHeight, loadHeaderPins, pruneHeadersIn, saveHeaderPin, saveHeaderPinIn, type HeaderPinReason } from "./header-pins.js";
export {
  computeWalletCounted,
  loadWalletStates,
  saveFirstBlockWalletsIn,
  saveWalletBackfill,
  syncWalletStates,
  type BackfillChange,
  type SaveWalletBackfillParameters,
  type SyncWalletStatesParameters,
  type WalletSource,
  type WalletStateName,
  type WalletStatus,
} from "./wallet-states.js";
export {
  loadChainHealth,
  saveChainHealth,
  saveProviderHealth,
  type ChainHealth,
  type ChainHealthInput,
  type FollowerState,
  type ProviderHealth,
  type ProviderHealthInput,
} from "./chain-health.js";
export {
  loadCheckpoint,
  loadCheckpoints,
  loadCheckpointTip,
  loadLiveCoverage,
  saveCheckpoint,
  saveLiveCoverage,
  type CheckpointSummary,
  type LiveCoverage,
  type SaveCheckpointParameters,
  type StoredCheckpoint,
} from "./checkpoints.js";
export { loadAnchorHeaders, loadChainCursor, loadReservesAt, type ReservesAt } from "./load-reserves-at.js";
export { loadReserveWindow, type WindowChange } from "./load-reserve-window.js";
export {
  loadSilentChanges,
  loadUnattributedChanges,
  loadLastFullRead,
  loadFullReadHeights,
  loadLastTransferHeights,
  saveEvmReadsIn,
  deleteWalletEvmReadsIn,
  type SilentChange,
  type UnattributedChange,
  type UnattributedChangeInput,
} from "./evm-reads.js";
export * from "./movements.js";
