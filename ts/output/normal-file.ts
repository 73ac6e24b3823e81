// nmap's normal output as a file (-oN): what nmap's log file holds, which is the terminal's
// report without the progress lines, between "# ... scan initiated" and "# ... done at"
// comment lines. Host blocks come from the terminal writer, so both stay identical.
import type { HostReport } from '../hosts/model.js';
import { PRODUCT, VERSION } from '../version.js';
import { commandLine, ctime } from './format.js';
import { detectionNote, NormalWriter } from './normal.js';
import type { Sink } from './sink.js';
import type { OutputWriter, RunEnd, RunInfo } from './writer.js';
import { doneSentence } from './xml.js';

export class NormalFileWriter implements OutputWriter {
  private writer: NormalWriter | undefined;
  private verbose = 0;
  private versionScan = false;
  private osScan = false;

  constructor(private readonly sink: Sink) {}

  begin(info: RunInfo): void {
    this.verbose = info.verbose;
    this.versionScan = info.versionScan ?? false;
    this.osScan = info.osScan ?? false;
    this.writer = new NormalWriter((s) => this.sink.write(s), info.ports, { reason: info.reason, open: info.open, verbose: info.verbose, versionScan: this.versionScan, osGuess: info.osGuess });
    this.sink.write(`# ${PRODUCT} ${VERSION} scan initiated ${ctime(info.startedAt)} as: ${commandLine(info.args)}\n`);
  }

  host(host: HostReport): void {
    this.writer!.host(host);
  }

  end(end: RunEnd): void {
    let s = '';
    if (this.verbose && end.dataSource) s += `Read data files from: ${end.dataSource}\n`;
    if (end.addresses === 1 && end.up === 0) s += 'Note: Host seems down. If it is really up, but blocking our ping probes, try -Pn\n';
    else if (end.up > 0 && end.error === undefined) {
      const note = detectionNote(this.osScan, this.versionScan);
      if (note) s += `${note}\n`;
    }
    if (end.error !== undefined) s += `# ${PRODUCT} stopped early: ${end.error}\n`;
    s += `# ${PRODUCT} done at ${ctime(end.finishedAt)} -- ${doneSentence(end)}\n`;
    this.sink.write(s);
  }
}
