// Run by test/lab-services-lab.test.ts as a child process inside the service lab's scanner
// namespace: the simplest client of each kind talks to one service and reports what came back,
// so that the test can check every daemon of the lab answers as itself. The plan (argv[2]) is a
// JSON list of checks, run at once; one JSON line per check is printed, in plan order:
//   {"id":"ssh22","ok":true,"data":"SSH-2.0-OpenSSH_9.2p1 ...","eof":false,"ms":4}
// Data is latin1 text (bytes as code points). Only addresses of the lab range are accepted.
import dgram from 'node:dgram';
import net from 'node:net';
import tls from 'node:tls';

export interface Check {
  id: string;
  /** banner: read what the server sends first; request: send, then read; tls: handshake, send, read; udp: one datagram each way. */
  kind: 'banner' | 'request' | 'tls' | 'udp';
  host: string;
  port: number;
  /** Bytes to send, as hex (request, tls, udp). */
  sendHex?: string;
  /** Stop reading once this many bytes came (default: read until the server closes or the wait ends). */
  enough?: number;
  /** How long to wait for data, in ms (default 3000). */
  waitMs?: number;
}

export interface Outcome {
  id: string;
  ok: boolean;
  data: string;
  /** The server closed the connection (TCP) before the wait ended. */
  eof: boolean;
  /** Milliseconds from connect (or send, for UDP) to the first data or to eof. */
  firstMs?: number;
  /** The TLS certificate's subject CN (tls). */
  certCn?: string;
  error?: string;
  ms: number;
}

const LAB = /^198\.1[89]\.\d+\.\d+$/;

function tcpCheck(c: Check): Promise<Outcome> {
  const started = Date.now();
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let eof = false;
    let firstMs: number | undefined;
    let certCn: string | undefined;
    let settled = false;
    const sock: net.Socket =
      c.kind === 'tls'
        ? tls.connect({ host: c.host, port: c.port, rejectUnauthorized: false }, () => {
            const cert = (sock as tls.TLSSocket).getPeerCertificate();
            certCn = typeof cert.subject?.CN === 'string' ? cert.subject.CN : undefined;
            firstMs ??= Date.now() - started;
            if (c.sendHex) sock.write(Buffer.from(c.sendHex, 'hex'));
          })
        : net.connect({ host: c.host, port: c.port }, () => {
            if (c.sendHex) sock.write(Buffer.from(c.sendHex, 'hex'));
          });
    const finish = (error?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      const data = Buffer.concat(chunks).toString('latin1');
      resolve({ id: c.id, ok: error === undefined, data, eof, firstMs, certCn, error, ms: Date.now() - started });
    };
    const timer = setTimeout(() => finish(), c.waitMs ?? 3000);
    sock.on('data', (b: Buffer) => {
      firstMs ??= Date.now() - started;
      chunks.push(b);
      if (c.enough !== undefined && Buffer.concat(chunks).length >= c.enough) finish();
    });
    sock.on('end', () => {
      eof = true;
      firstMs ??= Date.now() - started;
      finish();
    });
    sock.on('error', (e) => finish(e.message));
  });
}

function udpCheck(c: Check): Promise<Outcome> {
  const started = Date.now();
  return new Promise((resolve) => {
    const sock = dgram.createSocket('udp4');
    const finish = (data: Buffer | undefined, error?: string) => {
      clearTimeout(timer);
      sock.close();
      resolve({ id: c.id, ok: error === undefined && data !== undefined, data: data?.toString('latin1') ?? '', eof: false, firstMs: data ? Date.now() - started : undefined, error, ms: Date.now() - started });
    };
    const timer = setTimeout(() => finish(undefined, 'no answer'), c.waitMs ?? 3000);
    sock.on('message', (msg) => finish(msg));
    sock.on('error', (e) => finish(undefined, e.message));
    sock.send(Buffer.from(c.sendHex ?? '', 'hex'), c.port, c.host);
  });
}

async function main(): Promise<void> {
  const plan = JSON.parse(process.argv[2] ?? '[]') as Check[];
  for (const c of plan) {
    if (!LAB.test(c.host)) throw new Error(`not a lab address: ${c.host}`);
  }
  const outcomes = await Promise.all(plan.map((c) => (c.kind === 'udp' ? udpCheck(c) : tcpCheck(c))));
  for (const o of outcomes) console.log(JSON.stringify(o));
}

main().catch((e: unknown) => {
  console.error(`service-clients-child: ${(e as Error).message}`);
  process.exit(1);
});
