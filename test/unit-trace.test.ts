// --packet-trace formatting: nmap's flag letters and SENT/RCVD lines from engine records.
import test from 'ava';
import { RecordKind, TCP, type EngineRecord } from '../ts/engine/records.js';
import { PacketTracer, tcpFlagString } from '../ts/engine/trace.js';

const rec = (over: Partial<EngineRecord>): EngineRecord => ({
  kind: RecordKind.Tcp,
  flags: 0,
  ttl: 64,
  icmpType: 0,
  icmpCode: 0,
  address: '198.18.0.2',
  port: 80,
  window: 0,
  attempt: 0,
  rttUs: 0,
  responder: '198.18.0.2',
  ...over,
});

test("TCP flags in nmap's order", (t) => {
  t.is(tcpFlagString(TCP.SYN), 'S');
  t.is(tcpFlagString(TCP.SYN | TCP.ACK), 'SA');
  t.is(tcpFlagString(TCP.RST | TCP.ACK), 'RA');
  t.is(tcpFlagString(TCP.FIN | TCP.PSH | TCP.URG), 'FPU');
  t.is(tcpFlagString(0), '');
});

test('a probe and its reply, in time order, the reply timed by send time + RTT', (t) => {
  const tracer = new PacketTracer({ sourceAddress: '198.18.0.1', sourcePort: 40000 });
  const lines = tracer.batch(
    [
      rec({ flags: TCP.SYN | TCP.ACK, window: 64240, rttUs: 100, attempt: 1 }),
      rec({ kind: RecordKind.ProbeSent, flags: TCP.SYN, window: 40001, rttUs: 12_300, attempt: 1, responder: '198.18.0.1', technique: 1 }),
    ],
    50_000,
  );
  t.deepEqual(
    lines.map((l) => l.text),
    ['SENT (0.0123s) TCP 198.18.0.1:40001 > 198.18.0.2:80 S ttl=64', 'RCVD (0.0124s) TCP 198.18.0.2:80 > 198.18.0.1:40001 SA ttl=64 win=64240'],
  );
  t.deepEqual(
    lines.map((l) => l.direction),
    ['sent', 'received'],
  );
});

test('replies whose probe was not seen use the batch time and source port + attempt', (t) => {
  const tracer = new PacketTracer({ sourceAddress: '198.18.0.1', sourcePort: 40000 });
  const [rst, icmp, udp] = tracer.batch(
    [
      rec({ flags: TCP.RST | TCP.ACK, attempt: 2 }),
      rec({ kind: RecordKind.Icmp, icmpType: 3, icmpCode: 3, port: 113 }),
      rec({ kind: RecordKind.Udp, port: 53, window: 12 }),
    ],
    1_500_000,
  );
  t.is(rst.text, 'RCVD (1.5000s) TCP 198.18.0.2:80 > 198.18.0.1:40002 RA ttl=64 win=0');
  t.is(icmp.text, 'RCVD (1.5000s) ICMP [198.18.0.2 > 198.18.0.1 Port 113 unreachable (type=3/code=3) ] IP [ttl=64 ]');
  t.is(udp.text, 'RCVD (1.5000s) UDP 198.18.0.2:53 > 198.18.0.1:40000 ttl=64 len=12');
});

test('UDP probes are SENT as UDP without flags', (t) => {
  const tracer = new PacketTracer({ sourceAddress: '198.18.0.1', sourcePort: 40000 });
  const [line] = tracer.batch([rec({ kind: RecordKind.ProbeSent, port: 161, window: 50123, rttUs: 2000, responder: '198.18.0.1', technique: 9 })], 0);
  t.is(line.text, 'SENT (0.0020s) UDP 198.18.0.1:50123 > 198.18.0.2:161 ttl=64');
});
