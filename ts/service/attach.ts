// Puts -sV answers on the hosts they belong to: which ports nmap version-scans (open, then
// open|filtered), and a host report carrying its services, with an open|filtered port that
// answered a probe turned open (reason udp-response or syn-ack, ttl 0), as nmap's
// adjustPortStateIfNecessary does.
import type { Verdict } from '../verdicts/classify.js';
import type { HostReport } from '../hosts/model.js';
import type { DetectedService, ServiceTarget } from './detect.js';
import type { ServiceInfo } from './format.js';

/** A host's services, by "port/protocol". */
export type HostServices = ReadonlyMap<string, ServiceInfo>;

export const serviceKey = (port: number, protocol: string): string => `${port}/${protocol}`;

/** The ports of up hosts that nmap's service scan probes: every open port, then every open|filtered one. */
export function serviceTargets(hosts: Iterable<HostReport>): ServiceTarget[] {
  const open: ServiceTarget[] = [];
  const maybe: ServiceTarget[] = [];
  for (const h of hosts) {
    if (h.status.state !== 'up') continue;
    const sections = h.sections ?? [{ protocol: h.protocol, ports: h.ports }];
    for (const s of sections) {
      for (const [port, v] of [...s.ports].sort((a, b) => a[0] - b[0])) {
        if (v.state === 'open') open.push({ address: h.address, port, protocol: s.protocol });
        else if (v.state === 'open|filtered') maybe.push({ address: h.address, port, protocol: s.protocol });
      }
    }
  }
  return [...open, ...maybe];
}

/** Everything the service scan found, by address. */
export class ServiceBook {
  private readonly byHost = new Map<string, Map<string, DetectedService>>();

  constructor(found: readonly DetectedService[]) {
    for (const d of found) {
      let m = this.byHost.get(d.target.address);
      if (!m) this.byHost.set(d.target.address, (m = new Map()));
      m.set(serviceKey(d.target.port, d.target.protocol), d);
    }
  }

  /** The host's report with its services, and answered open|filtered ports made open. */
  apply(host: HostReport): HostReport {
    const found = this.byHost.get(host.address);
    if (!found) return host;
    const services = new Map<string, ServiceInfo>();
    for (const [k, d] of found) services.set(k, d.service);
    const out: HostReport = { ...host, services };
    const lift = (ports: ReadonlyMap<number, Verdict>, protocol: string): ReadonlyMap<number, Verdict> => {
      let copy: Map<number, Verdict> | undefined;
      for (const [port, v] of ports) {
        const d = found.get(serviceKey(port, protocol));
        if (v.state === 'open|filtered' && d?.responded) {
          copy ??= new Map(ports);
          copy.set(port, { state: 'open', reason: protocol === 'udp' ? 'udp-response' : 'syn-ack', ttl: 0 });
        }
      }
      return copy ?? ports;
    };
    out.ports = lift(host.ports, host.protocol);
    if (host.sections) out.sections = host.sections.map((s) => ({ ...s, ports: lift(s.ports, s.protocol) }));
    return out;
  }
}
