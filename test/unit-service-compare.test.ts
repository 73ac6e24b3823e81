// The golden -sV comparison itself (test/helpers/service-xml.ts, service-compare.ts): reading
// <service> elements out of nmap-format XML, the by-shape rules for values that change between
// runs (and only those), and ndiff on the normalised copies. No lab, no root.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareServiceXml, compareServices, ndiffServices, normalizeServiceXml, shapeOf } from './helpers/service-compare.js';
import { parseServiceXml, serviceInfoLines, unescapeXml } from './helpers/service-xml.js';

interface P {
  port: number;
  proto?: string;
  state?: string;
  /** The <service> element as written (attributes and children), or none. */
  service?: string;
}

/** An nmap-format XML document with one host (a MAC address first, as some writers order it). */
function doc(ports: P[], address = '198.18.16.2'): string {
  const body = ports
    .map(
      (p) =>
        `<port protocol="${p.proto ?? 'tcp'}" portid="${p.port}"><state state="${p.state ?? 'open'}" reason="syn-ack" reason_ttl="64"/>${p.service ?? ''}</port>`,
    )
    .join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE nmaprun>
<nmaprun scanner="nmap" args="nmap -sV" start="1764619486" version="7.93" xmloutputversion="1.05">
<host starttime="1" endtime="2"><status state="up" reason="arp-response" reason_ttl="0"/>
<address addr="DE:89:EC:26:C9:45" addrtype="mac"/>
<address addr="${address}" addrtype="ipv4"/>
<hostnames>
</hostnames>
<ports>${body}
</ports>
<times srtt="59" rttvar="5000" to="100000"/>
</host>
<runstats><finished time="3" timestr="x" summary="x" elapsed="1.00" exit="success"/><hosts up="1" down="0" total="1"/></runstats>
</nmaprun>
`;
}

const SSH = `<service name="ssh" product="OpenSSH" version="9.2p1 Debian 2+deb12u10" extrainfo="protocol 2.0" ostype="Linux" method="probed" conf="10"><cpe>cpe:/a:openbsd:openssh:9.2p1</cpe><cpe>cpe:/o:linux:linux_kernel</cpe></service>`;
const memcached = (uptime: string) =>
  `<service name="memcached" product="Memcached" version="1.6.18" extrainfo="uptime ${uptime} seconds" method="probed" conf="10"><cpe>cpe:/a:memcached:memcached:1.6.18</cpe></service>`;
const fp = (opts: { v?: string; i?: string; d?: string; time?: string; p?: string; reply?: string } = {}) =>
  `<service name="krb524" servicefp="SF-Port4444-TCP:V=${opts.v ?? '7.93'}%I=${opts.i ?? '7'}%D=${opts.d ?? '12/1'}%Time=${opts.time ?? '6B0F286A'}%P=${opts.p ?? 'x86_64-pc-linux-gnu'}%r(NULL,13,&quot;FERRO-LAB-7\\x20ready\\r\\n&quot;)%r(GetRequest,26,&quot;FERRO-LAB-7\\x20ready\\r\\n${opts.reply ?? 'FERRO-LAB-7\\x20what\\?'}\\r\\n&quot;);" method="table" conf="3"/>`;

test('parseServiceXml: every attribute, CPEs in order, entities undone, the IP address and not the MAC', (t) => {
  const ports = parseServiceXml(doc([{ port: 22, service: SSH }, { port: 4444, service: fp() }, { port: 9999, service: '<service name="tcpwrapped" method="probed" conf="8"/>' }, { port: 5, state: 'closed' }]));
  t.deepEqual([...ports.keys()], ['198.18.16.2 22/tcp', '198.18.16.2 4444/tcp', '198.18.16.2 9999/tcp', '198.18.16.2 5/tcp']);
  t.deepEqual(ports.get('198.18.16.2 22/tcp'), {
    address: '198.18.16.2',
    protocol: 'tcp',
    port: 22,
    state: 'open',
    reason: 'syn-ack',
    service: {
      name: 'ssh',
      product: 'OpenSSH',
      version: '9.2p1 Debian 2+deb12u10',
      extrainfo: 'protocol 2.0',
      ostype: 'Linux',
      method: 'probed',
      conf: '10',
      cpe: ['cpe:/a:openbsd:openssh:9.2p1', 'cpe:/o:linux:linux_kernel'],
    },
  });
  const unknown = ports.get('198.18.16.2 4444/tcp')!.service!;
  t.true(unknown.servicefp!.includes('%r(NULL,13,"FERRO-LAB-7\\x20ready\\r\\n")'), unknown.servicefp);
  t.deepEqual(ports.get('198.18.16.2 9999/tcp')!.service, { name: 'tcpwrapped', method: 'probed', conf: '8', cpe: [] });
  t.is(ports.get('198.18.16.2 5/tcp')!.service, undefined);
  t.is(ports.get('198.18.16.2 5/tcp')!.state, 'closed');
});

test('parseServiceXml refuses text that is not an nmap XML document', (t) => {
  t.throws(() => parseServiceXml(''), { message: /no <nmaprun>/ });
  t.throws(() => parseServiceXml('Starting Nmap 7.93'), { message: /no <nmaprun>/ });
});

test('unescapeXml: named entities and character references', (t) => {
  t.is(unescapeXml('a&amp;b &quot;c&quot; &lt;d&gt; &#65;&#x42; &apos;'), 'a&b "c" <d> AB \'');
});

test('the same scan twice: no differences', (t) => {
  const x = doc([{ port: 22, service: SSH }, { port: 11211, service: memcached('14') }, { port: 4444, service: fp() }]);
  t.deepEqual(compareServiceXml(x, x), []);
});

test('a differing product, version, ostype or tunnel is reported, naming the port and both values', (t) => {
  const a = doc([{ port: 22, service: SSH }]);
  t.deepEqual(compareServiceXml(a, doc([{ port: 22, service: SSH.replace('product="OpenSSH"', 'product="Dropbear sshd"') }])), [
    '198.18.16.2 22/tcp product: nmap "OpenSSH", ferroscan "Dropbear sshd"',
  ]);
  t.deepEqual(compareServiceXml(a, doc([{ port: 22, service: SSH.replace(' ostype="Linux"', '') }])), ['198.18.16.2 22/tcp ostype: nmap "Linux", ferroscan (absent)']);
  t.deepEqual(compareServiceXml(a, doc([{ port: 22, service: SSH.replace('name="ssh"', 'name="ssh" tunnel="ssl"') }])), ['198.18.16.2 22/tcp tunnel: nmap (absent), ferroscan "ssl"']);
  t.deepEqual(compareServiceXml(a, doc([{ port: 22, service: SSH.replace('conf="10"', 'conf="3"').replace('probed', 'table') }])), [
    '198.18.16.2 22/tcp method: nmap "probed", ferroscan "table"',
    '198.18.16.2 22/tcp conf: nmap "10", ferroscan "3"',
  ]);
});

test('CPEs: a missing, extra or reordered CPE is a difference', (t) => {
  const a = doc([{ port: 22, service: SSH }]);
  const swapped = SSH.replace('<cpe>cpe:/a:openbsd:openssh:9.2p1</cpe><cpe>cpe:/o:linux:linux_kernel</cpe>', '<cpe>cpe:/o:linux:linux_kernel</cpe><cpe>cpe:/a:openbsd:openssh:9.2p1</cpe>');
  t.is(compareServiceXml(a, doc([{ port: 22, service: swapped }])).length, 1);
  t.is(compareServiceXml(a, doc([{ port: 22, service: SSH.replace('<cpe>cpe:/o:linux:linux_kernel</cpe>', '') }])).length, 1);
  t.deepEqual(compareServiceXml(a, doc([{ port: 22, service: SSH.replace('</service>', '<cpe>cpe:/o:debian:debian_linux</cpe></service>') }])), [
    '198.18.16.2 22/tcp cpe: nmap [cpe:/a:openbsd:openssh:9.2p1 cpe:/o:linux:linux_kernel], ferroscan [cpe:/a:openbsd:openssh:9.2p1 cpe:/o:linux:linux_kernel cpe:/o:debian:debian_linux]',
  ]);
});

test('ports: one side only, another state, a service on one side only', (t) => {
  const a = doc([{ port: 22, service: SSH }, { port: 80, service: '<service name="http" method="table" conf="3"/>' }]);
  const b = doc([{ port: 22, state: 'filtered', service: SSH }, { port: 80 }, { port: 443 }]);
  t.deepEqual(compareServiceXml(a, b), ['198.18.16.2 22/tcp state: nmap open, ferroscan filtered', '198.18.16.2 443/tcp: only in ferroscan', '198.18.16.2 80/tcp: a <service> only in nmap']);
  t.deepEqual(compareServiceXml(a, doc([{ port: 22, service: SSH }, { port: 80, service: '<service name="http" method="table" conf="3"/>' }], '198.18.16.3')).length, 4, 'another address is other ports');
});

test('memcached uptime: compared by shape, so another count agrees and another form does not', (t) => {
  const a = doc([{ port: 11211, service: memcached('14') }]);
  t.deepEqual(compareServiceXml(a, doc([{ port: 11211, service: memcached('9031') }])), []);
  t.deepEqual(compareServiceXml(a, doc([{ port: 11211, service: memcached('soon') }])), ['198.18.16.2 11211/tcp extrainfo: nmap "uptime 14 seconds", ferroscan "uptime soon seconds"']);
  // Only the count is loose: the rest of extrainfo, and version, stay exact.
  t.is(compareServiceXml(a, doc([{ port: 11211, service: memcached('14').replace('seconds"', 'seconds; Ubuntu"') }])).length, 1);
  t.is(compareServiceXml(a, doc([{ port: 11211, service: memcached('14').replace('version="1.6.18"', 'version="1.6.19"') }])).length, 1);
});

test('a service fingerprint: date, time, scanner version and platform by shape; intensity and responses exact', (t) => {
  const a = doc([{ port: 4444, service: fp() }]);
  t.deepEqual(compareServiceXml(a, doc([{ port: 4444, service: fp({ d: '1/31', time: '6B10A0C3', v: '0.1.0', p: 'x86_64-unknown-linux-gnu' }) }])), []);
  t.is(compareServiceXml(a, doc([{ port: 4444, service: fp({ reply: 'FERRO-LAB-7\\x20huh\\?' }) }])).length, 1, 'another response');
  t.is(compareServiceXml(a, doc([{ port: 4444, service: fp({ i: '9' }) }])).length, 1, 'another intensity');
  t.is(compareServiceXml(a, doc([{ port: 4444, service: fp({ time: 'yesterday' }) }])).length, 1, 'a time that is not hex');
  t.is(compareServiceXml(a, doc([{ port: 4444, service: fp().replace(/ servicefp="[^"]*"/, '') }])).length, 1, 'no fingerprint');
});

test('shapeOf touches only the rules of its field', (t) => {
  t.is(shapeOf('extrainfo', 'uptime 3 seconds'), 'uptime <n> seconds');
  t.is(shapeOf('product', 'uptime 3 seconds'), 'uptime 3 seconds');
  t.is(shapeOf('extrainfo', 'uptime: 12'), 'uptime: <n>');
  t.is(shapeOf('extrainfo', 'protocol 2.0'), 'protocol 2.0');
  t.is(shapeOf('extrainfo', undefined), undefined);
});

test('compareServices: fields and cpe options narrow what is compared', (t) => {
  const a = parseServiceXml(doc([{ port: 22, service: SSH }]));
  const b = parseServiceXml(doc([{ port: 22, service: SSH.replace('conf="10"', 'conf="5"').replace('<cpe>cpe:/o:linux:linux_kernel</cpe>', '') }]));
  t.is(compareServices(a, b).length, 2);
  t.deepEqual(compareServices(a, b, { fields: ['name', 'product'], cpe: false }), []);
  t.deepEqual(compareServices(a, b, { fields: ['conf'], cpe: false, names: ['A', 'B'] }), ['198.18.16.2 22/tcp conf: A "10", B "5"']);
});

test('normalizeServiceXml: only volatile service values change, escaped as before', (t) => {
  const x = doc([{ port: 22, service: SSH }, { port: 11211, service: memcached('14') }, { port: 4444, service: fp() }]);
  const n = normalizeServiceXml(x);
  t.true(n.includes('extrainfo="uptime &lt;n&gt; seconds"'), n);
  t.true(n.includes('servicefp="SF-Port4444-TCP:V=&lt;version&gt;%I=7%D=&lt;m/d&gt;%Time=&lt;hex&gt;%P=&lt;platform&gt;%r(NULL,13,&quot;FERRO-LAB-7'), n);
  t.is(n.replace(/<service\b[^>]*>/g, ''), x.replace(/<service\b[^>]*>/g, ''), 'nothing outside <service> tags changes');
  t.true(n.includes(SSH), 'a service with no volatile value is left byte for byte');
  t.deepEqual(compareServiceXml(n, x), [], 'normalising keeps every shape');
});

const haveNdiff = spawnSync('ndiff', ['--help'], { stdio: 'ignore' }).status === 0;

test('ndiffServices: ndiff sees no difference across an uptime, and sees a version difference', (t) => {
  if (!haveNdiff) {
    t.fail('ndiff is not installed (Debian package ndiff; .ci/run installs it)');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'ferroscan-unit-ndiff-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const a = write('a.xml', doc([{ port: 22, service: SSH }, { port: 11211, service: memcached('14') }]));
  const b = write('b.xml', doc([{ port: 22, service: SSH }, { port: 11211, service: memcached('75') }]));
  const c = write('c.xml', doc([{ port: 22, service: SSH.replace('9.2p1 Debian', '9.3p1 Debian') }, { port: 11211, service: memcached('75') }]));
  t.is(spawnSync('ndiff', [a, b]).status, 1, 'raw ndiff does see the uptime');
  t.like(ndiffServices(a, b, join(dir, 'ab')), { code: 0 });
  const ac = ndiffServices(a, c, join(dir, 'ac'));
  t.is(ac.code, 1);
  t.regex(ac.text, /22\/tcp/);
});

test('serviceInfoLines: the Service Info lines of normal output', (t) => {
  const text = 'PORT   STATE SERVICE VERSION\n22/tcp open  ssh     OpenSSH\nService Info: Host: mail.fslab.test; OSs: Unix, Linux; CPE: cpe:/o:linux:linux_kernel\n\nNmap done';
  t.deepEqual(serviceInfoLines(text), ['Service Info: Host: mail.fslab.test; OSs: Unix, Linux; CPE: cpe:/o:linux:linux_kernel']);
  t.deepEqual(serviceInfoLines('nothing'), []);
});
