// A DNS server that answers every PTR question with one name whose labels hold whatever
// bytes the test chose (terminal escapes, controls): what a hostile reverse zone can publish.
// Run inside a lab's target namespace only:
//   node hostile-dns.mjs ADDRESS PORT LABELS_HEX
// LABELS_HEX is the name's labels, each as hex bytes, joined by "." (e.g. "1b5b33316d.6578").
// Prints "listening" once bound; answers until killed.
import { createSocket } from 'node:dgram';

const [address, port, labelsHex] = process.argv.slice(2);
if (!/^198\.1[89]\.\d+\.\d+$/.test(address ?? '')) throw new Error('hostile-dns: lab addresses (198.18.0.0/15) only');
const labels = labelsHex.split('.').map((h) => Buffer.from(h, 'hex'));
const rdata = Buffer.concat([...labels.flatMap((l) => [Buffer.from([l.length]), l]), Buffer.from([0])]);

/** The question section's end: the name's labels, then type and class. */
function questionEnd(msg) {
  let i = 12;
  while (i < msg.length && msg[i] !== 0) i += msg[i] + 1;
  return i + 5;
}

const socket = createSocket('udp4');
socket.on('error', (e) => {
  console.error(`hostile-dns: ${e.message}`);
  process.exit(1);
});
socket.on('message', (msg, from) => {
  if (msg.length < 17) return;
  const end = questionEnd(msg);
  if (end > msg.length) return;
  const header = Buffer.from(msg.subarray(0, 12));
  header.writeUInt16BE(0x8180, 2); // a response, recursion available, no error
  header.writeUInt16BE(1, 4); // one question
  header.writeUInt16BE(1, 6); // one answer
  header.writeUInt32BE(0, 8); // no authority, no additional
  const answer = Buffer.alloc(12);
  answer.writeUInt16BE(0xc00c, 0); // the name of the question
  answer.writeUInt16BE(12, 2); // PTR
  answer.writeUInt16BE(1, 4); // IN
  answer.writeUInt32BE(60, 6); // TTL
  answer.writeUInt16BE(rdata.length, 10);
  socket.send(Buffer.concat([header, msg.subarray(12, end), answer, rdata]), from.port, from.address);
});
socket.bind(Number(port), address, () => console.log('listening'));
