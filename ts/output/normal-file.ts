// nmap's normal output as a file (-oN): what nmap's log file holds, which is the terminal's
// report without the progress lines, between "# ... scan initiated" and "# ... done at"
// comment lines. Host blocks come from the terminal writer, so both stay identical, and in
// the same order: every host at the end of the scan, in target order (`sorted`), as the
// terminal shows them. A resumed run writes the whole report again after the first line.
import type { HostReport } from '../hosts/model.js';
import { PRODUCT, VERSION } from '../version.js';
import { escapeText } from './escape.js';
import { commandLine, ctime } from './format.js';
import { detectionNote, NormalWriter } from './normal.js';
import type { Sink } from './sink.js';
import { doneSentence, type ListedTarget, type OutputWriter, type RunEnd, type RunInfo, type WriterState } from './writer.js';

export class NormalFileWriter implements OutputWriter {
  readonly sorted = true;
  private writer: NormalWriter | undefined;
  private verbose = 0;
  private versionScan = false;
  private listScan = false;
  private osScan = false;

  constructor(private readonly sink: Sink) {}

  begin(info: RunInfo, continued?: WriterState): void {
    this.verbose = info.verbose;
    this.versionScan = info.versionScan ?? false;
    this.listScan = info.listScan ?? false;
    this.osScan = info.osScan ?? false;
    this.writer = new NormalWriter((s) => this.sink.write(s), info.ports, { reason: info.reason, open: info.open, verbose: info.verbose, pingScan: info.pingScan, versionScan: this.versionScan, osGuess: info.osGuess });
    if (!continued) this.sink.write(`# ${PRODUCT} ${VERSION} scan initiated ${ctime(info.startedAt)} as: ${escapeText(commandLine(info.args))}\n`);
  }

  host(host: HostReport): void {
    this.writer!.host(host);
  }

  /** -sL: "ferroscan scan report for NAME (ADDR)", as the terminal's list. */
  listed(target: ListedTarget): void {
    this.sink.write(target.hostname === undefined ? `${PRODUCT} scan report for ${target.address}\n` : `${PRODUCT} scan report for ${target.hostname} (${target.address})\n`);
  }

  end(end: RunEnd): void {
    let s = '';
    if (this.verbose && end.dataSource) s += `Read data files from: ${end.dataSource}\n`;
    if (end.addresses === 1 && end.up === 0 && !end.progress && !this.listScan) s += 'Note: Host seems down. If it is really up, but blocking our ping probes, try -Pn\n';
    else if (end.up > 0 && end.error === undefined && !end.progress) {
      const note = detectionNote(this.osScan, this.versionScan);
      if (note) s += `${note}\n`;
    }
    if (end.error !== undefined) s += `# ${PRODUCT} stopped early: ${end.error}\n`;
    s += `# ${PRODUCT} done at ${ctime(end.finishedAt)} -- ${doneSentence(end)}\n`;
    this.sink.write(s);
  }
}
