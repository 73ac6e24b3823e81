// ava helpers for the service lab (scripts/lab-services.sh): real Debian daemons in a target
// namespace. Brings it up under a unique ID, runs commands inside its scanner namespace only,
// always tears it down, and runs nmap's and ferroscan's -sV with -oX into a scratch directory.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestFn } from 'ava';
import { bringUpLab, describe, parseKeyValues, repoRoot, useLabOf, type ExecOptions, type ExecResult, type LabHandle } from './lab.js';
import { parseServiceXml, type PortService } from './service-xml.js';

export const servicesLabScript = `${repoRoot}scripts/lab-services.sh`;

/** One service of the lab: which daemon ("ssh", "nginx-tls", "wrapped", ...) on which port. */
export interface LabService {
  daemon: string;
  port: number;
  proto: 'tcp' | 'udp';
}

export interface ServicesLabFacts {
  id: string;
  scanNs: string;
  targetNs: string;
  scanAddr: string;
  targetAddr: string;
  tcpPorts: number[];
  udpPorts: number[];
  services: LabService[];
  tcpwrappedPort: number;
  unknownPort: number;
  unknownBanner: string;
  tlsPorts: number[];
  snmpCommunity: string;
  domain: string;
  /** The AnyIP range served by the same daemons (256 addresses), and the ports the bench scans there. */
  multiRange: string;
  multiHosts: number;
  multiPorts: number[];
  stateDir: string;
  raw: Record<string, string>;
}

export type ServicesLab = LabHandle<ServicesLabFacts>;

const numbers = (csv: string): number[] => csv.split(',').map(Number);

export function parseServicesFacts(text: string): ServicesLabFacts {
  const { raw, get } = parseKeyValues(text, 'lab-services.sh');
  const services = get('LAB_SERVICES')
    .split(',')
    .map((s): LabService => {
      const [daemon, port, proto] = s.split(':');
      if (proto !== 'tcp' && proto !== 'udp') throw new Error(`lab-services.sh: bad service ${s}`);
      return { daemon, port: Number(port), proto };
    });
  return {
    id: get('LAB_ID'),
    scanNs: get('LAB_SCAN_NS'),
    targetNs: get('LAB_TARGET_NS'),
    scanAddr: get('LAB_SCAN_ADDR'),
    targetAddr: get('LAB_TARGET_ADDR'),
    tcpPorts: numbers(get('LAB_TCP_PORTS')),
    udpPorts: numbers(get('LAB_UDP_PORTS')),
    services,
    tcpwrappedPort: Number(get('LAB_TCPWRAPPED_PORT')),
    unknownPort: Number(get('LAB_UNKNOWN_PORT')),
    unknownBanner: get('LAB_UNKNOWN_BANNER'),
    tlsPorts: numbers(get('LAB_TLS_PORTS')),
    snmpCommunity: get('LAB_SNMP_COMMUNITY'),
    domain: get('LAB_DOMAIN'),
    multiRange: get('LAB_MULTI_RANGE'),
    multiHosts: Number(get('LAB_MULTI_HOSTS')),
    multiPorts: numbers(get('LAB_MULTI_PORTS')),
    stateDir: get('LAB_STATE_DIR'),
    raw,
  };
}

/** Brings up a fresh service lab (stale ones of dead owners are removed first). */
export function servicesLabUp(): ServicesLab {
  return bringUpLab(servicesLabScript, 'v', {}, parseServicesFacts);
}

/** One service lab for every test of a file. */
export function useServicesLab(test: TestFn): () => ServicesLab {
  return useLabOf(test, servicesLabUp, 'the service lab');
}

/** A -sV run with -oX: what the scanner printed, and the ports of its XML file. */
export interface ServiceScan {
  run: ExecResult;
  xmlPath: string;
  xml: string;
  ports: Map<string, PortService>;
}

/**
 * Runs `scanner args... -oX <dir>/<name>.xml` inside the lab's scanner namespace and reads the
 * XML back. Throws, with the scanner's output, when it exits non-zero or writes no nmap XML.
 */
export async function serviceScan(lab: ServicesLab, scanner: 'nmap' | 'ferroscan', args: string[], dir: string, name: string, opts?: ExecOptions): Promise<ServiceScan> {
  const xmlPath = join(dir, `${name}.xml`);
  const all = [...args, '-oX', xmlPath];
  const run = scanner === 'nmap' ? await lab.nmap(all, opts) : await lab.ferroscan(all, opts);
  if (run.code !== 0) throw new Error(describe(`${scanner} ${all.join(' ')}`, run));
  let xml: string;
  try {
    xml = readFileSync(xmlPath, 'utf8');
  } catch (e) {
    throw new Error(`${describe(`${scanner} ${all.join(' ')}`, run)}\nno XML file: ${(e as Error).message}`);
  }
  return { run, xmlPath, xml, ports: parseServiceXml(xml) };
}
