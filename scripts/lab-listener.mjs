// TCP listeners for the lab: started by scripts/lab.sh inside a lab namespace, one process for
// all ports so `lab.sh down` has a single pid to end. Arguments are ADDR:PORT pairs.
// Port 22 greets like an SSH server and HTTP ports answer a request, so that later banner and
// service tests have something real to read; every other port accepts and waits.
import net from 'node:net';

const greetings = { 22: 'SSH-2.0-OpenSSH_9.2p1 ferroscan-lab\r\n' };
const httpPorts = new Set([80, 443, 8080]);
const httpReply =
  'HTTP/1.1 200 OK\r\nServer: ferroscan-lab\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n';

const specs = process.argv.slice(2);
if (specs.length === 0) {
  console.error('usage: lab-listener.mjs ADDR:PORT...');
  process.exit(2);
}

let pending = specs.length;
for (const spec of specs) {
  const i = spec.lastIndexOf(':');
  const host = spec.slice(0, i);
  const port = Number(spec.slice(i + 1));
  const server = net.createServer((sock) => {
    sock.on('error', () => {});
    sock.setTimeout(10_000, () => sock.destroy());
    const greeting = greetings[port];
    if (greeting) sock.write(greeting);
    if (httpPorts.has(port)) sock.once('data', () => sock.end(httpReply));
  });
  server.on('error', (err) => {
    console.error(`listen ${spec}: ${err.message}`);
    process.exit(1);
  });
  // A deep backlog: the /16 sweep leaves many half-open connections on port 80.
  server.listen({ host, port, backlog: 65535 }, () => {
    if (--pending === 0) console.log(`listening ${specs.join(' ')}`);
  });
}
process.on('SIGTERM', () => process.exit(0));
