/**
 * The store layer: the durable event log, the saved state, the file-system seam and the simulated
 * disk. It depends on the kernel and the event layer only.
 */
export { openStore } from './store.js';
export type { EventStore, StoreOptions, StoreStatus } from './store.js';
export { openEventLog } from './event-log.js';
export type { EventLog, EventLogOptions, EventLogStatus, RecoveryReport, SegmentInfo } from './event-log.js';
export { acceptedBy } from './log-reader.js';
export type { LogReader, ReadOptions, ReadStats } from './log-reader.js';
export { EMPTY_STATE, STATE_FILE, loadState, openStateFile } from './state-file.js';
export type { HealthRecord, SavedModuleState, SavedState, StateFile, StateFileOptions, StateFileStatus, StateRecovery } from './state-file.js';
export { FORMAT_VERSION } from './record.js';
export type { LoggedEvent } from './record.js';
export type { CorruptReason, CorruptRecord } from './segment-scan.js';
export { nodeFs } from './fs.js';
export type { OpenMode, StoreFile, StoreFs } from './fs.js';
export { createMemoryDisk } from './memory-disk.js';
export type { DiskCounts, DiskFault, FsOperation, MemoryDisk, MemoryDiskOptions, PowerLossOptions } from './memory-disk.js';
