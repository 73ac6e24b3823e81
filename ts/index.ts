// ferroscan's public library entry: scanning, the parsers, classification, the model,
// the writers and the typed errors. Everything a user imports comes from here.

// Scanning
export { scan, Scan, runScan, runPrepared, prepareScan, withTechnique, DEFAULT_RATE, DEFAULT_MAX_RETRIES } from './scan.js';
export type { ScanOptions, ScanSummary, ScanEvents, PreparedScan, ScanReport, RunHooks } from './scan.js';
export { ProgressMeter, formatStats, formatProgressLine, formatDuration, formatRate } from './progress.js';
export type { ScanProgress, ProgressCounters, StatsContext } from './progress.js';
export { PacketTracer, tcpFlagString } from './trace.js';
export type { TraceLine, TracerOptions } from './trace.js';

// Drop-in replacements for the npm package portscanner (checkPortStatus, findAPortInUse,
// findAPortNotInUse), and checkPort/checkPorts with ferroscan's full verdict
export { checkPortStatus, findAPortInUse, findAPortNotInUse, checkPort, checkPorts, DEFAULT_CHECK_RATE } from './portscanner.js';
export type { PortStatus, PortCheck, PortscannerOptions, CheckTechnique, CheckPortCallback, FindPortCallback } from './portscanner.js';

// Targets and ports
export { parseTargets, targetEntries, containsAddress, mergeRanges, parseIPv4, formatIPv4, resolveIPv4 } from './targets.js';
export type { TargetSet, TargetEntry, TargetPiece, AddressRange, Resolver } from './targets.js';
export { parsePorts, parseTopPorts, DEFAULT_TOP_PORTS, MAX_PORT } from './ports.js';
export { serviceName, topPorts, portsByName } from './services.js';

// Classification and the hosts/ports model
export { classify, mergeVerdict, noResponse, TECHNIQUES } from './classify.js';
export type { PortState, Technique, Verdict } from './classify.js';
export { decodeBatch, RECORD_SIZE, TCP } from './records.js';
export type { EngineRecord } from './records.js';
export { ScanModel, CombinedModel, isLocalAddress } from './model.js';
export type { PortResult, HostReport, HostStatus, HostsModel, ModelOptions, PortSection, Protocol } from './model.js';

// Host discovery, reverse DNS, MAC vendors
export { discover, parseDiscoveryFlags, hostEvidence, DEFAULT_PROBES, DEFAULT_PING_PORTS } from './discovery.js';
export type { DiscoveryPlan, DiscoveryOptions, DiscoveryResult, DiscoveredHost, PingProbe } from './discovery.js';
export { reverseLookup, parseDnsServers } from './rdns.js';
export type { PtrResolver, ReverseOptions } from './rdns.js';
export { macVendor, loadVendorTable } from './oui.js';

// Output writers: feed them begin(), result()/host(), end() to write nmap's formats of any results.
export { NormalWriter, formatLatency, formatTimestamp } from './output/normal.js';
export type { NormalOptions } from './output/normal.js';
export { Outputs, extractOutputOptions } from './output/outputs.js';
export type { OutputFormat, OutputTarget } from './output/outputs.js';
export { NormalFileWriter } from './output/normal-file.js';
export { XmlWriter } from './output/xml.js';
export { GrepableWriter } from './output/grepable.js';
export { JsonWriter, NdjsonWriter, JSON_SCHEMA_VERSION } from './output/json.js';
export type { JsonHost, JsonPort } from './output/json.js';
export { CsvWriter, CSV_HEADER } from './output/csv.js';
export { ListWriter } from './output/list.js';
export { FileSink, StdoutSink } from './output/sink.js';
export type { Sink } from './output/sink.js';
export type { OutputWriter, RunInfo, RunEnd, ScanPhase, PhaseEvent } from './output/writer.js';

// Errors and version
export { FerroscanError, TargetError, PortError, UsageError, ScanError, AbortError } from './errors.js';
export { PRODUCT, VERSION } from './version.js';
