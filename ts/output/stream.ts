// When a host is complete, so that the streaming writers (every format but normal output)
// write it while the scan runs instead of at its end. The engine's permutation interleaves
// the probes of every host, so "complete" is judged from the verdicts themselves:
//   - a scan of one port: a host is complete at its first verdict (the engine settles a
//     probe with its first valid reply; a later reply can only confirm it);
//   - several ports: once every port has a verdict; a host with a silent port (filtered
//     after its last resend) is complete only at the end of the scan;
//   - a run of several techniques (-sS -sU), the ping scan (-sn) and a service scan (-sV,
//     whose answers come after the port scan): at the end.
// Hosts left over are written at the end, in target order, with the rest of the report. A
// host is written once: its block is what was known when it completed (a later change of a
// port's verdict shows only in NDJSON's port lines). Reverse DNS runs beside the scan; until
// it has finished (never with -n), complete hosts wait, so every block carries its name.
import { withFacts, type HostFacts } from '../hosts/host-facts.js';
import type { HostReport, PortResult, ScanModel } from '../hosts/model.js';
import { formatIPv4, parseIPv4 } from '../targets/address.js';
import type { AddressValue } from '../targets/address6.js';
import type { TargetEntry, TargetPiece } from '../targets/targets.js';
import { HostSet } from './host-set.js';

export interface HostStreamOptions {
  /** Where complete hosts go (Outputs.streamHost). */
  write(host: HostReport): void;
  /** Called after each host is written (the resume journal records it). */
  onWritten?(value: number): void;
  /** MACs, names and discovery facts, as the end-of-scan report adds them. */
  facts: HostFacts;
  /** The scan's targets (their pieces' names); IPv6 scans stream nothing: their hosts are written at the end. */
  targets: { readonly pieces: readonly TargetPiece[] | readonly { start: AddressValue; end: AddressValue; hostname?: string }[] };
  /** Hosts written by an interrupted run that this one resumes. */
  written?: HostSet;
  /** False when reverse DNS is still to come (hosts wait for it). */
  namesReady: boolean;
}

export class HostStream {
  /** Hosts written so far, this run's and the resumed run's. */
  readonly written: HostSet;
  private model: ScanModel | undefined;
  private portCount = 0;
  private namesReady: boolean;
  /** Complete hosts waiting for reverse DNS. */
  private queued: number[] = [];
  private readonly queuedSet = new HostSet();
  private readonly named: readonly { start: AddressValue; end: AddressValue; hostname?: string }[];

  constructor(private readonly options: HostStreamOptions) {
    this.written = options.written ?? new HostSet();
    this.namesReady = options.namesReady;
    // Only pieces given by name carry a hostname; there are few of them.
    const pieces: readonly { start: AddressValue; end: AddressValue; hostname?: string }[] = options.targets.pieces;
    this.named = pieces.filter((p) => p.hostname !== undefined);
  }

  /** The port scan starts filling `model` (one technique; not called for -sS -sU or -sn). */
  attach(model: ScanModel): void {
    this.model = model;
    this.portCount = model.ports.length;
  }

  /** Stops streaming: the rest is written at the end (a second technique starts). */
  detach(): void {
    this.model = undefined;
  }

  /** A verdict arrived; writes the host if that made it complete. */
  result(r: PortResult): void {
    const model = this.model;
    if (!model) return;
    const value = parseIPv4(r.address);
    if (value === undefined || this.written.has(value)) return;
    if (this.portCount !== 1 && model.answeredPorts(value) < this.portCount) return;
    if (!this.namesReady) {
      if (this.queuedSet.add(value)) this.queued.push(value);
      return;
    }
    this.write(value);
  }

  /** Reverse DNS has finished: waiting hosts are written now, the rest as they complete. */
  namesArrived(): void {
    if (this.namesReady) return;
    this.namesReady = true;
    const queued = this.queued;
    this.queued = [];
    for (const value of queued) if (!this.written.has(value)) this.write(value);
  }

  /** Whether `value` has been written (the end-of-scan report skips it for the streaming writers). */
  has(value: number): boolean {
    return this.written.has(value);
  }

  private write(value: number): void {
    const model = this.model;
    if (!model) return;
    const report = withFacts(model.report(this.entry(value)), this.options.facts);
    // Only up hosts are complete; down ones (shown with -v) belong to the end of the scan.
    if (report.status.state !== 'up') return;
    this.written.add(value);
    this.options.write(report);
    this.options.onWritten?.(value);
  }

  private entry(value: number): TargetEntry {
    const entry: TargetEntry = { address: formatIPv4(value), value };
    for (const p of this.named) {
      if (value >= p.start && value <= p.end) {
        entry.hostname = p.hostname;
        break;
      }
    }
    return entry;
  }
}
