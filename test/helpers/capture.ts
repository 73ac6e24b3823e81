// Captures what crosses a lab namespace's interface (tcpdump inside that namespace, every
// frame, written as pcap) while a test runs something, and reads the capture back as
// frames: IPv4 with its addresses and protocol, ARP with its operation and addresses.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface Frame {
  kind: 'ipv4' | 'arp' | 'other';
  /** IPv4: the datagram's source and destination; ARP: sender and target protocol address. */
  src: string;
  dst: string;
  /** IPv4: protocol number; ARP: operation (1 request, 2 reply); other: the EtherType. */
  proto: number;
}

const dotted = (b: Buffer, at: number): string => `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;

/** Every frame of a pcap file (Ethernet link type, either byte order). */
export function readFrames(path: string): Frame[] {
  const b = readFileSync(path);
  if (b.length < 24) throw new Error(`${path}: not a pcap file`);
  const le = b.readUInt32LE(0) === 0xa1b2c3d4 || b.readUInt32LE(0) === 0xa1b23c4d;
  const u32 = (at: number): number => (le ? b.readUInt32LE(at) : b.readUInt32BE(at));
  if (!le && b.readUInt32BE(0) !== 0xa1b2c3d4 && b.readUInt32BE(0) !== 0xa1b23c4d) throw new Error(`${path}: not a pcap file`);
  if (u32(20) !== 1) throw new Error(`${path}: link type ${u32(20)}, not Ethernet`);
  const out: Frame[] = [];
  for (let off = 24; off + 16 <= b.length; ) {
    const len = u32(off + 8);
    const f = off + 16;
    // tcpdump may stop mid-record when killed: a cut last record is not a frame
    if (f + len > b.length) break;
    const type = len >= 14 ? b.readUInt16BE(f + 12) : 0;
    if (type === 0x0800 && len >= 34) out.push({ kind: 'ipv4', src: dotted(b, f + 26), dst: dotted(b, f + 30), proto: b[f + 23] });
    else if (type === 0x0806 && len >= 42) out.push({ kind: 'arp', src: dotted(b, f + 28), dst: dotted(b, f + 38), proto: b.readUInt16BE(f + 20) });
    else out.push({ kind: 'other', src: '', dst: '', proto: type });
    off = f + len;
  }
  return out;
}

export interface Capture {
  /**
   * Stops tcpdump and reads the file. tcpdump runs in immediate mode and writes each packet
   * as it comes (-U): without immediate mode, libpcap hands packets over a ring block at a
   * time, and the last block's packets were lost when it stopped.
   */
  stop(): Promise<Frame[]>;
}

/** Starts tcpdump on `iface` inside namespace `ns`, resolving once it is listening. */
export function startCapture(ns: string, iface: string, path: string): Promise<Capture> {
  const child = spawn('ip', ['netns', 'exec', ns, 'tcpdump', '-i', iface, '-n', '-U', '--immediate-mode', '-s', '128', '-w', path], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`tcpdump did not start listening in ${ns}:\n${stderr}`));
    }, 10_000);
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes('listening on')) {
        clearTimeout(timer);
        resolve({
          async stop() {
            // a moment for frames still in flight to be captured
            await new Promise((r) => setTimeout(r, 300));
            child.kill('SIGINT');
            await closed;
            return readFrames(path);
          },
        });
      }
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`tcpdump exited (${code}) in ${ns}:\n${stderr}`));
    });
  });
}
