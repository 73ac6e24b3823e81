// Port specifications and the port table: lists, ranges, open ends, names, errors, and
// the default top 1000 against nmap's own list.
import test from 'ava';
import { rng } from './helpers/rng.js';
import { existsSync, readFileSync } from 'node:fs';
import { PortError } from '../ts/errors.js';
import { FAST_TOP_PORTS, parsePorts, parsePortSpec, parseTopPorts, selectPorts } from '../ts/targets/ports.js';
import { NMAP_SERVICES, parseNmapServices, parsePortTable, serviceName, setServiceTable, topPorts } from '../ts/targets/services.js';

// nmap 7.93's scaninfo "services" attribute for --top-ports 1000 (port numbers only).
const NMAP_TOP_1000 = '1,3-4,6-7,9,13,17,19-26,30,32-33,37,42-43,49,53,70,79-85,88-90,99-100,106,109-111,113,119,125,135,139,143-144,146,161,163,179,199,211-212,222,254-256,259,264,280,301,306,311,340,366,389,406-407,416-417,425,427,443-445,458,464-465,481,497,500,512-515,524,541,543-545,548,554-555,563,587,593,616-617,625,631,636,646,648,666-668,683,687,691,700,705,711,714,720,722,726,749,765,777,783,787,800-801,808,843,873,880,888,898,900-903,911-912,981,987,990,992-993,995,999-1002,1007,1009-1011,1021-1100,1102,1104-1108,1110-1114,1117,1119,1121-1124,1126,1130-1132,1137-1138,1141,1145,1147-1149,1151-1152,1154,1163-1166,1169,1174-1175,1183,1185-1187,1192,1198-1199,1201,1213,1216-1218,1233-1234,1236,1244,1247-1248,1259,1271-1272,1277,1287,1296,1300-1301,1309-1311,1322,1328,1334,1352,1417,1433-1434,1443,1455,1461,1494,1500-1501,1503,1521,1524,1533,1556,1580,1583,1594,1600,1641,1658,1666,1687-1688,1700,1717-1721,1723,1755,1761,1782-1783,1801,1805,1812,1839-1840,1862-1864,1875,1900,1914,1935,1947,1971-1972,1974,1984,1998-2010,2013,2020-2022,2030,2033-2035,2038,2040-2043,2045-2049,2065,2068,2099-2100,2103,2105-2107,2111,2119,2121,2126,2135,2144,2160-2161,2170,2179,2190-2191,2196,2200,2222,2251,2260,2288,2301,2323,2366,2381-2383,2393-2394,2399,2401,2492,2500,2522,2525,2557,2601-2602,2604-2605,2607-2608,2638,2701-2702,2710,2717-2718,2725,2800,2809,2811,2869,2875,2909-2910,2920,2967-2968,2998,3000-3001,3003,3005-3007,3011,3013,3017,3030-3031,3052,3071,3077,3128,3168,3211,3221,3260-3261,3268-3269,3283,3300-3301,3306,3322-3325,3333,3351,3367,3369-3372,3389-3390,3404,3476,3493,3517,3527,3546,3551,3580,3659,3689-3690,3703,3737,3766,3784,3800-3801,3809,3814,3826-3828,3851,3869,3871,3878,3880,3889,3905,3914,3918,3920,3945,3971,3986,3995,3998,4000-4006,4045,4111,4125-4126,4129,4224,4242,4279,4321,4343,4443-4446,4449,4550,4567,4662,4848,4899-4900,4998,5000-5004,5009,5030,5033,5050-5051,5054,5060-5061,5080,5087,5100-5102,5120,5190,5200,5214,5221-5222,5225-5226,5269,5280,5298,5357,5405,5414,5431-5432,5440,5500,5510,5544,5550,5555,5560,5566,5631,5633,5666,5678-5679,5718,5730,5800-5802,5810-5811,5815,5822,5825,5850,5859,5862,5877,5900-5904,5906-5907,5910-5911,5915,5922,5925,5950,5952,5959-5963,5987-5989,5998-6007,6009,6025,6059,6100-6101,6106,6112,6123,6129,6156,6346,6389,6502,6510,6543,6547,6565-6567,6580,6646,6666-6669,6689,6692,6699,6779,6788-6789,6792,6839,6881,6901,6969,7000-7002,7004,7007,7019,7025,7070,7100,7103,7106,7200-7201,7402,7435,7443,7496,7512,7625,7627,7676,7741,7777-7778,7800,7911,7920-7921,7937-7938,7999-8002,8007-8011,8021-8022,8031,8042,8045,8080-8090,8093,8099-8100,8180-8181,8192-8194,8200,8222,8254,8290-8292,8300,8333,8383,8400,8402,8443,8500,8600,8649,8651-8652,8654,8701,8800,8873,8888,8899,8994,9000-9003,9009-9011,9040,9050,9071,9080-9081,9090-9091,9099-9103,9110-9111,9200,9207,9220,9290,9415,9418,9485,9500,9502-9503,9535,9575,9593-9595,9618,9666,9876-9878,9898,9900,9917,9929,9943-9944,9968,9998-10004,10009-10010,10012,10024-10025,10082,10180,10215,10243,10566,10616-10617,10621,10626,10628-10629,10778,11110-11111,11967,12000,12174,12265,12345,13456,13722,13782-13783,14000,14238,14441-14442,15000,15002-15004,15660,15742,16000-16001,16012,16016,16018,16080,16113,16992-16993,17877,17988,18040,18101,18988,19101,19283,19315,19350,19780,19801,19842,20000,20005,20031,20221-20222,20828,21571,22939,23502,24444,24800,25734-25735,26214,27000,27352-27353,27355-27356,27715,28201,30000,30718,30951,31038,31337,32768-32785,33354,33899,34571-34573,35500,38292,40193,40911,41511,42510,44176,44442-44443,44501,45100,48080,49152-49161,49163,49165,49167,49175-49176,49400,49999-50003,50006,50300,50389,50500,50636,50800,51103,51493,52673,52822,52848,52869,54045,54328,55055-55056,55555,55600,56737-56738,57294,57797,58080,60020,60443,61532,61900,62078,63331,64623,64680,65000,65129,65389';

function expand(list: string): number[] {
  return list.split(',').flatMap((item) => {
    const [a, b] = item.split('-').map(Number);
    return Array.from({ length: (b ?? a) - a + 1 }, (_, i) => a + i);
  });
}

test('lists and ranges, sorted and unique', (t) => {
  t.deepEqual(parsePorts('80,22,1000-1003,22,1001'), [22, 80, 1000, 1001, 1002, 1003]);
  t.deepEqual(parsePorts('T:443,T:80-81'), [80, 81, 443]);
});

test('open ends and "-" cover 1-65535 but not port 0', (t) => {
  const all = parsePorts('-');
  t.is(all.length, 65535);
  t.is(all[0], 1);
  t.is(all[all.length - 1], 65535);
  t.deepEqual(parsePorts('65530-'), [65530, 65531, 65532, 65533, 65534, 65535]);
  t.deepEqual(parsePorts('-3'), [1, 2, 3]);
});

test('port 0 only when explicit', (t) => {
  t.deepEqual(parsePorts('0'), [0]);
  t.deepEqual(parsePorts('0-2'), [0, 1, 2]);
  t.deepEqual(parsePorts([0, 443, 443]), [0, 443]);
});

test('service names select their ports', (t) => {
  t.deepEqual(parsePorts('ssh'), [22]);
  t.true(parsePorts('http').includes(80));
});

for (const [spec, token] of [['65536', '65536'], ['22,abc', 'abc'], ['80-22', '80-22'], ['1-2-3', '1-2-3'], ['22,,80', '22,,80'], ['', ''], ['U:53', 'U:53'], ['nosuchservice', 'nosuchservice'], ['22x', '22x']]) {
  test(`rejects ${JSON.stringify(spec)} naming ${JSON.stringify(token)}`, (t) => {
    const err = t.throws(() => parsePorts(spec), { instanceOf: PortError });
    t.true(err!.message.startsWith(`invalid port specification "${token}"`), err!.message);
  });
}

test('rejects numbers out of range in lists and --top-ports', (t) => {
  t.throws(() => parsePorts([70000]), { instanceOf: PortError });
  t.throws(() => parsePorts([1.5]), { instanceOf: PortError });
  t.throws(() => parseTopPorts(0), { instanceOf: PortError });
});

test('shipped table: top 1000 equals nmap 7.93 --top-ports 1000', (t) => {
  const url = new URL('../data/ports-tcp.tsv', import.meta.url);
  setServiceTable(parsePortTable(readFileSync(url, 'utf8'), url.pathname));
  try {
    t.deepEqual(parsePorts(), expand(NMAP_TOP_1000));
    t.deepEqual(topPorts(3), [80, 23, 443]);
    t.is(serviceName(22), 'ssh');
    t.is(serviceName(4), 'unknown');
  } finally {
    setServiceTable(undefined);
  }
});

test('nmap-services, when installed: same top 1000 and nmap names', (t) => {
  if (!existsSync(NMAP_SERVICES)) {
    t.pass('nmap not installed');
    return;
  }
  setServiceTable(parseNmapServices(readFileSync(NMAP_SERVICES, 'utf8')));
  try {
    t.deepEqual(parseTopPorts(1000), expand(NMAP_TOP_1000));
    t.is(serviceName(200), 'src');
    t.is(serviceName(4), 'unknown');
  } finally {
    setServiceTable(undefined);
  }
});

test('frequency ties go to the lower port', (t) => {
  const table = parseNmapServices('a\t9/tcp\t0.5\nb\t7/tcp\t0.5\nc\t8/tcp\t0.9\nd\t7/udp\t0.9\n', 'x');
  t.deepEqual(table.ranked.tcp, [8, 7, 9]);
  t.deepEqual(table.ranked.udp, [7]);
});

// ---------------------------------------------------------------------------------------
// Protocol prefixes, --top-ports/-F with -p, --exclude-ports, and a property test.

test('T:/U: prefixes hold until the next one; unprefixed items go to the scanned protocols', (t) => {
  t.deepEqual(parsePortSpec('22,U:53,111,T:21-23,80'), { tcp: [21, 22, 23, 80], udp: [53, 111] });
  t.deepEqual(parsePortSpec('22,U:53', ['tcp', 'udp']), { tcp: [22], udp: [22, 53] });
  t.deepEqual(parsePortSpec('u:53,t:80', ['udp']), { tcp: [80], udp: [53] });
  t.deepEqual(parsePortSpec('U:1-3,-', ['tcp']).udp.length, 65535);
  t.deepEqual(parsePorts('U:53,T:80'), [80]);
  t.deepEqual(parsePorts('53,U:67', 'udp'), [53, 67]);
});

for (const [spec, message] of [
  ['S:80', 'invalid port specification "S:80" (SCTP ports (S:) are not supported)'],
  ['22,P:6', 'invalid port specification "P:6" (IP protocol scans (P:) are not supported)'],
  ['X:1', 'invalid port specification "X:1" (prefixes are T: and U:)'],
  ['T:', 'invalid port specification "T:"'],
  ['U:53', 'invalid port specification "U:53" (no TCP ports; U: ports need a UDP scan (-sU))'],
  ['1-2-3', 'invalid port specification "1-2-3"'],
  ['80,T:99999', 'invalid port specification "T:99999" (ports are 0-65535)'],
]) {
  test(`one line naming the bad item: ${spec}`, (t) => {
    t.throws(() => parsePorts(spec), { instanceOf: PortError, message });
  });
}

test('selectPorts: -p, --top-ports within -p, -F, --exclude-ports, default top 1000', (t) => {
  const url = new URL('../data/ports-tcp.tsv', import.meta.url);
  setServiceTable(parsePortTable(readFileSync(url, 'utf8'), url.pathname));
  try {
    t.deepEqual(selectPorts({ ports: '22,80,U:53', protocols: ['tcp'] }), { tcp: [22, 80], udp: [53] });
    t.deepEqual(selectPorts({ protocols: ['tcp'] }).tcp, expand(NMAP_TOP_1000));
    t.deepEqual(selectPorts({ fast: true, protocols: ['tcp'] }).tcp, [...topPorts(FAST_TOP_PORTS)].sort((a, b) => a - b));
    t.deepEqual(selectPorts({ topPorts: 3, protocols: ['tcp'] }).tcp, [23, 80, 443]);
    // As nmap: the most frequent ports among -p's, and ranking skips excluded ports.
    t.deepEqual(selectPorts({ ports: '1-100', topPorts: 2, protocols: ['tcp'] }).tcp, [23, 80]);
    t.deepEqual(selectPorts({ topPorts: 3, excludePorts: '80', protocols: ['tcp'] }).tcp, [21, 23, 443]);
    t.deepEqual(selectPorts({ ports: '20-25', excludePorts: 'T:21,U:22,T:23', protocols: ['tcp'] }).tcp, [20, 22, 24, 25]);
    t.throws(() => selectPorts({ ports: '22', excludePorts: '22', protocols: ['tcp'] }), { instanceOf: PortError, message: 'no TCP ports left to scan in "22" after --exclude-ports "22"' });
    t.throws(() => selectPorts({ ports: 'U:53', protocols: ['tcp'] }), { instanceOf: PortError });
    t.throws(() => selectPorts({ topPorts: 0, protocols: ['tcp'] }), { instanceOf: PortError });
  } finally {
    setServiceTable(undefined);
  }
});


test('property: random -p specs give exactly the brute-force port sets per protocol', (t) => {
  const r = rng(1234);
  const int = (lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
  for (let round = 0; round < 500; round++) {
    const want = { tcp: new Set<number>(), udp: new Set<number>() };
    let into: ('tcp' | 'udp')[] = ['tcp'];
    const items: string[] = [];
    for (let k = int(1, 6); k > 0; k--) {
      let prefix = '';
      if (r() < 0.3) {
        const proto = r() < 0.5 ? 'tcp' : 'udp';
        prefix = proto === 'tcp' ? 'T:' : 'U:';
        into = [proto];
      }
      const a = int(0, 65535);
      const b = Math.min(65535, a + int(0, 300));
      const form = int(0, 3);
      const [text, lo, hi] = form === 0 ? [String(a), a, a] : form === 1 ? [`${a}-${b}`, a, b] : form === 2 ? [`${Math.max(a, 65400)}-`, Math.max(a, 65400), 65535] : [`-${b % 200}`, 1, b % 200];
      if (hi < lo) continue; // "-0" names nothing valid; skip the item
      items.push(prefix + text);
      for (const p of into) for (let v = lo; v <= hi; v++) want[p].add(v);
    }
    if (items.length === 0) continue;
    const spec = items.join(',');
    const got = parsePortSpec(spec, ['tcp']);
    t.deepEqual(got.tcp, [...want.tcp].sort((x, y) => x - y), spec);
    t.deepEqual(got.udp, [...want.udp].sort((x, y) => x - y), spec);
  }
});
