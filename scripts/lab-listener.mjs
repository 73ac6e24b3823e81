// TCP listeners and UDP services for the lab: started by scripts/lab.sh inside a lab namespace,
// one process for all ports so `lab.sh down` has a single pid to end. Arguments are ADDR:PORT
// (TCP), udp:ADDR:PORT (a UDP service that answers every datagram) and udp-silent:ADDR:PORT
// (a bound UDP socket that never answers: no port-unreachable either, so open|filtered).
// ADDR may be IPv6 ("2001:2::2:80", ":::80": the last colon ends the address).
// Port 22 greets like an SSH server and HTTP ports answer a request, so that later banner and
// service tests have something real to read; every other TCP port accepts and waits.
import dgram from 'node:dgram';
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
const ready = () => {
  if (--pending === 0) console.log(`listening ${specs.join(' ')}`);
};
for (const spec of specs) {
  const i = spec.lastIndexOf(':');
  let host = spec.slice(0, i);
  const port = Number(spec.slice(i + 1));
  const udp = /^udp(-silent)?:/.exec(host);
  if (udp) {
    host = host.slice(udp[0].length);
    const silent = udp[1] !== undefined;
    // an IPv6 address ("2001:2::2", "::") needs an IPv6 socket (the IPv6 lab, scripts/lab6.sh)
    const sock = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
    // The answer echoes the request behind a marker: any datagram back is nmap's udp-response.
    if (!silent) sock.on('message', (msg, rinfo) => sock.send(Buffer.concat([Buffer.from('ferroscan-lab '), msg]), rinfo.port, rinfo.address));
    sock.on('error', (err) => {
      console.error(`bind ${spec}: ${err.message}`);
      process.exit(1);
    });
    sock.bind({ address: host, port }, ready);
    continue;
  }
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
  server.listen({ host, port, backlog: 65535 }, ready);
}
process.on('SIGTERM', () => process.exit(0));
