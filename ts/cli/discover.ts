// Step 3 of a scan run: which hosts are up (host discovery, unless -Pn) and, beside the port
// scan, their names (reverse DNS, unless -n).
import { discover, upRanges, type DiscoveredHost } from '../hosts/discovery.js';
import { upRanges6 } from '../hosts/discovery6.js';
import { formatAddress } from '../hosts/model.js';
import { reverseLookup } from '../hosts/rdns.js';
import { isIPv6Set, targetEntries } from '../targets/targets.js';
import { engineRanges6 } from '../targets/targets6.js';
import type { ScanSession } from './session.js';

/**
 * Host discovery (ts/hosts/discovery.ts), unless -Pn: only hosts found up are port-scanned.
 * A resumed run takes the hosts its interrupted run found (from the journal) instead: the
 * port scan's permutation is over those hosts, so it must be the same set.
 */
export async function discoverHosts(session: ScanSession): Promise<void> {
  const { plan, prepared } = session;
  if (plan.args.Pn) {
    session.discoveryComplete = true;
    return;
  }
  session.announce(new Date());
  const up = session.resumedContents?.discovered ?? (await discover({ targets: prepared.targets, plan: plan.discoveryPlan, rates: plan.rates, maxRetries: plan.maxRetries, seed: plan.seed, interface: plan.args.e, sourceAddress: plan.args.S, signal: session.controller.signal })).up;
  session.discovered = up;
  session.facts.discovered = up;
  if (isIPv6Set(prepared.targets)) prepared.native.ranges6 = engineRanges6(upRanges6(up));
  else prepared.native.ranges = upRanges(up).flatMap((r) => [r.start, r.end]);
  if (session.interrupted) return;
  session.discoveryComplete = true;
  // the journal keeps IPv4 hosts (a resumed IPv6 run discovers again)
  if (!session.resumedContents?.discovered && session.checkpoints.enabled && !isIPv6Set(prepared.targets)) session.checkpoints.journal?.discovered(up as ReadonlyMap<number, DiscoveredHost>);
  session.checkpoints.discoveryDone();
}

/** Reverse DNS, run beside the port scan: for hosts up (every target with -Pn), all with -R, none with -n. */
export function lookUpNames(session: ScanSession): Promise<Map<string, string>> {
  const { args, dnsServers } = session.plan;
  const up = session.discovered;
  const toName: Iterable<string> = args.R || !up ? mapIter(targetEntries(session.prepared.targets), (e) => e.address) : mapIter(up.keys(), formatAddress);
  // nmap's notice (Target::setHostName) for a PTR name that had to be cleaned.
  const onIllegalName = (address: string): void => {
    const line = `Illegal character(s) in the host name of ${address} -- replacing with '*'\n`;
    if (session.status) session.status.around(() => session.screen(line));
    else session.screen(line);
  };
  return args.n ? Promise.resolve(new Map<string, string>()) : reverseLookup(toName, { servers: dnsServers, signal: session.controller.signal, onIllegalName });
}

function* mapIter<T, U>(items: Iterable<T>, f: (item: T) => U): Generator<U> {
  for (const item of items) yield f(item);
}
