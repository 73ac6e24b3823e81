// nmap's normal output as a file (-oN): what nmap's log file holds, which is the terminal's
// report without the progress lines, between "# ... scan initiated" and "# ... done at"
// comment lines. Host blocks come from the terminal writer, so both stay identical.
import type { HostReport } from '../hosts/model.js';
import { PRODUCT, VERSION } from '../version.js';
import { commandLine, ctime } from './format.js';
import { NormalWriter, OS_DONE } from './normal.js';
import type { Sink } from './sink.js';
import type { OutputWriter, RunEnd, RunInfo } from './writer.js';
import { doneSentence } from './xml.js';

export class NormalFileWriter implements OutputWriter {
  private writer: NormalWriter | undefined;
  private verbose = 0;
  private osScan = false;

  constructor(private readonly sink: Sink) {}

  begin(info: RunInfo): void {
    this.verbose = info.verbose;
    this.osScan = info.osScan ?? false;
    this.writer = new NormalWriter((s) => this.sink.write(s), info.ports, { reason: info.reason, open: info.open, verbose: info.verbose, osGuess: info.osGuess });
    this.sink.write(`# ${PRODUCT} ${VERSION} scan initiated ${ctime(info.startedAt)} as: ${commandLine(info.args)}\n`);
  }

  host(host: HostReport): void {
    this.writer!.host(host);
  }

  end(end: RunEnd): void {
    let s = '';
    if (this.verbose && end.dataSource) s += `Read data files from: ${end.dataSource}\n`;
    if (end.addresses === 1 && end.up === 0) s += 'Note: Host seems down. If it is really up, but blocking our ping probes, try -Pn\n';
    else if (this.osScan && end.up > 0) s += `${OS_DONE}\n`;
    if (end.error !== undefined) s += `# ${PRODUCT} stopped early: ${end.error}\n`;
    s += `# ${PRODUCT} done at ${ctime(end.finishedAt)} -- ${doneSentence(end)}\n`;
    this.sink.write(s);
  }
}
