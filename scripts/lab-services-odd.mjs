// The two services of the service lab (scripts/lab-services.sh) that no Debian daemon plays,
// run inside the lab's target namespace as one process:
//
//   wrapped:ADDR:PORT   accepts and closes at once, before reading or sending anything: what a
//                       tcpwrappers-protected daemon does to a refused client, and what nmap -sV
//                       reports as "tcpwrapped".
//   banner:ADDR:PORT    greets with a banner that no nmap service probe matches and waits; when
//                       the client sends anything, answers with a line of the same unknown
//                       protocol and closes, as many servers do after a command they do not
//                       know: nmap's "unrecognized service" path, ending in a service
//                       fingerprint. (Closing matters for time: a scanner waits out each probe's
//                       full timeout on a connection that stays open.)
//
// Prints "listening ..." once every socket is bound, so the lab script knows it is ready.
import net from 'node:net';

const BANNER = 'FERRO-LAB-7 ready\r\n';
const REPLY = 'FERRO-LAB-7 what?\r\n';

const specs = process.argv.slice(2);
if (specs.length === 0) {
  console.error('usage: lab-services-odd.mjs wrapped:ADDR:PORT|banner:ADDR:PORT...');
  process.exit(2);
}

let pending = specs.length;
for (const spec of specs) {
  const m = /^(wrapped|banner):([\d.]+):(\d+)$/.exec(spec);
  if (!m) {
    console.error(`bad spec ${spec} (wrapped:ADDR:PORT or banner:ADDR:PORT)`);
    process.exit(2);
  }
  const [, kind, host, port] = m;
  const server = net.createServer((sock) => {
    // A peer that resets is no error of ours: nmap closes abruptly all the time.
    sock.on('error', () => sock.destroy());
    if (kind === 'wrapped') {
      sock.end();
      return;
    }
    sock.write(BANNER);
    sock.once('data', () => sock.end(REPLY));
    // An idle client is dropped after a while, so a stuck scanner cannot pile up sockets.
    sock.setTimeout(60_000, () => sock.destroy());
  });
  server.on('error', (err) => {
    console.error(`listen ${spec}: ${err.message}`);
    process.exit(1);
  });
  server.listen({ host, port: Number(port), backlog: 4096 }, () => {
    if (--pending === 0) console.log(`listening ${specs.join(' ')}`);
  });
}
