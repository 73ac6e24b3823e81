// ferroscan's public library entry: exactly the API the README's "Library" and "Replacing
// portscanner" sections document — scan(), the portscanner drop-ins, the parsers, classify,
// the model, OS detection, the output writers and the typed errors — with the types their
// signatures use.
// Everything else in ts/ is internal: tests and benches import it by path.
import { native } from './engine/native.js';

// Scanning (ts/engine/)
export { scan, Scan } from './engine/scan.js';
export type { ScanOptions, ScanSummary, ScanEvents } from './engine/scan.js';
export type { ScanProgress } from './engine/progress.js';
export { PacketTracer } from './engine/trace.js';
export type { TraceLine, TracerOptions } from './engine/trace.js';
export { formatStats } from './cli/progress.js';
export type { StatsContext } from './cli/progress.js';

// Drop-in replacements for the npm package portscanner (checkPortStatus, findAPortInUse,
// findAPortNotInUse), and checkPort/checkPorts with ferroscan's full verdict (ts/compat/)
export { checkPortStatus, findAPortInUse, findAPortNotInUse, checkPort, checkPorts } from './compat/portscanner.js';
export type { PortStatus, PortCheck, PortscannerOptions, CheckTechnique, CheckPortCallback, FindPortCallback } from './compat/portscanner.js';

// Targets and ports (ts/targets/)
export { parseTargets } from './targets/targets.js';
export type { TargetSet, TargetEntry, TargetPiece, Resolver } from './targets/targets.js';
export type { AddressRange } from './targets/address.js';
export { parsePorts } from './targets/ports.js';

// Classification (ts/verdicts/) and the hosts/ports model (ts/hosts/)
export { classify } from './verdicts/classify.js';
export type { PortState, Technique, Verdict } from './verdicts/classify.js';
export type { EngineRecord } from './engine/records.js';
export { ScanModel } from './hosts/model.js';
export type { PortResult, HostReport, HostStatus, HostsModel, ModelOptions, PortSection, Protocol } from './hosts/model.js';

// Service and version detection, -sV (ts/service/): run it on a scan's open ports; its
// answers are what the writers print when a HostReport carries `services`.
export { detectServices, DEFAULT_VERSION_DB } from './service/detect.js';
export type { DetectOptions, DetectedService, ServiceTarget } from './service/detect.js';
export { ServiceBook, serviceTargets } from './service/attach.js';
export type { ServiceInfo } from './service/format.js';

// OS detection (ts/os/): nmap's -O against hosts, and matching nmap fingerprints against nmap-os-db
export { detectOs, matchOsFingerprint, osTargetOf, DEFAULT_OS_DB } from './os/detect.js';
export type { OsReport, OsMatches, OsMatch, OsClass, OsSequence, OsTarget, OsOptions, OsOutcome } from './os/detect.js';

// Output writers (ts/output/): feed them begin(), result()/host(), end() to write nmap's formats of any results.
export { NormalWriter } from './output/normal.js';
export type { NormalOptions } from './output/normal.js';
export { NormalFileWriter } from './output/normal-file.js';
export { XmlWriter } from './output/xml.js';
export { GrepableWriter } from './output/grepable.js';
export { JsonWriter, NdjsonWriter } from './output/json.js';
export { CsvWriter } from './output/csv.js';
export { ListWriter } from './output/list.js';
export { FileSink, StdoutSink } from './output/sink.js';
export type { Sink } from './output/sink.js';
export type { OutputWriter, RunInfo, RunEnd, ScanPhase, PhaseEvent } from './output/writer.js';

// Errors and version
export { FerroscanError, TargetError, PortError, UsageError, ScanError, AbortError } from './errors.js';
export { VERSION } from './version.js';

// Loading the package loads the engine, so an install without one (no prebuilt package for
// this platform, no cargo to build it) fails at import with the loader's one-line reason.
native();
