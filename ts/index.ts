// ferroscan's public library entry: scanning, the parsers, classification, the model,
// the writers and the typed errors. Everything a user imports comes from here.
export { scan, runScan, runPrepared, prepareScan, DEFAULT_RATE, DEFAULT_MAX_RETRIES } from './scan.js';
export type { ScanOptions, PreparedScan, ScanReport, RunHooks } from './scan.js';
export { parseTargets, targetEntries, mergeRanges, parseIPv4, formatIPv4, resolveIPv4 } from './targets.js';
export type { TargetSet, TargetEntry, TargetPiece, AddressRange, Resolver } from './targets.js';
export { parsePorts, parseTopPorts, DEFAULT_TOP_PORTS } from './ports.js';
export { serviceName, topPorts } from './services.js';
export { classify, mergeVerdict, noResponse, TECHNIQUES } from './classify.js';
export type { PortState, Technique, Verdict } from './classify.js';
export { ScanModel } from './model.js';
export type { PortResult, HostReport, HostStatus } from './model.js';
export { NormalWriter, formatLatency, formatTimestamp } from './output/normal.js';
export type { NormalOptions } from './output/normal.js';
export { FerroscanError, TargetError, PortError, UsageError, ScanError } from './errors.js';
export { PRODUCT, VERSION } from './version.js';
