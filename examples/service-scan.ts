// Service and version detection (-sV) from a TypeScript app: find the open ports, then ask
// nmap's service probes what runs on them (nmap's nmap-service-probes must be installed:
// Debian's nmap-common). Each answer carries nmap's fields: name, product, version, CPEs, ...
// Run (root or CAP_NET_RAW):  npx tsx examples/service-scan.ts [127.0.0.1 | 198.18.16.2]
import { detectServices, scan, type ServiceTarget } from 'ferroscan';
import { exampleTarget } from './lab-guard.js';

const open: ServiceTarget[] = [];
for await (const r of scan({ targets: [exampleTarget()], ports: '1-1024', rate: 5000 })) {
  if (r.state === 'open') open.push({ address: r.address, port: r.port, protocol: r.protocol });
}

for (const { target, service } of await detectServices(open, { intensity: 7 })) {
  const version = [service.product, service.version, service.extrainfo && `(${service.extrainfo})`].filter(Boolean).join(' ');
  console.log(`${target.port}/${target.protocol} ${service.tunnel ? 'ssl/' : ''}${service.name ?? 'unknown'} ${version} ${service.cpe.join(' ')}`.trimEnd());
}
