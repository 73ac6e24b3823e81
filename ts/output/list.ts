// -oL: masscan's list format, "open tcp 80 198.18.0.2 1700000000" (status, protocol, port,
// address, Unix time of the reply), one line per open port as it is found, between
// masscan's "#masscan" and "# end" lines, so tools that read masscan's lists read ours.
import type { PortResult } from '../hosts/model.js';
import { UnixClock } from './host-memo.js';
import type { Sink } from './sink.js';
import type { OutputWriter, WriterState } from './writer.js';

export class ListWriter implements OutputWriter {
  private readonly clock = new UnixClock();

  constructor(private readonly sink: Sink) {}

  begin(_info: unknown, continued?: WriterState): void {
    if (!continued) this.sink.write('#masscan\n');
  }

  result(r: PortResult, at: Date): void {
    // masscan lists what answered as open; other verdicts have no line of their own.
    if (r.state === 'open') this.sink.write(`open ${r.protocol} ${r.port} ${r.address} ${this.clock.seconds(at)}\n`);
  }

  end(): void {
    this.sink.write('# end\n');
  }
}
