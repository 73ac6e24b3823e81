// Step 3 of a scan run: which hosts are up (host discovery, unless -Pn) and, beside the port
// scan, their names (reverse DNS, unless -n).
import { discover, upRanges } from '../hosts/discovery.js';
import { upRanges6 } from '../hosts/discovery6.js';
import { formatAddress } from '../hosts/model.js';
import { reverseLookup } from '../hosts/rdns.js';
import { isIPv6Set, targetEntries } from '../targets/targets.js';
import { engineRanges6 } from '../targets/targets6.js';
import type { ScanSession } from './session.js';

/** Host discovery (ts/hosts/discovery.ts), unless -Pn: only hosts found up are port-scanned. */
export async function discoverHosts(session: ScanSession): Promise<void> {
  const { plan, prepared } = session;
  if (plan.args.Pn) return;
  session.announce(new Date());
  const found = await discover({ targets: prepared.targets, plan: plan.discoveryPlan, rate: plan.rate, maxRetries: plan.maxRetries, seed: plan.seed, interface: plan.args.e, sourceAddress: plan.args.S, signal: session.controller.signal });
  session.discovered = found.up;
  session.facts.discovered = found.up;
  if (isIPv6Set(prepared.targets)) prepared.native.ranges6 = engineRanges6(upRanges6(found.up));
  else prepared.native.ranges = upRanges(found.up).flatMap((r) => [r.start, r.end]);
}

/** Reverse DNS, run beside the port scan: for hosts up (every target with -Pn), all with -R, none with -n. */
export function lookUpNames(session: ScanSession): Promise<Map<string, string>> {
  const { args, dnsServers } = session.plan;
  const up = session.discovered;
  const toName: Iterable<string> = args.R || !up ? mapIter(targetEntries(session.prepared.targets), (e) => e.address) : mapIter(up.keys(), formatAddress);
  return args.n ? Promise.resolve(new Map<string, string>()) : reverseLookup(toName, { servers: dnsServers, signal: session.controller.signal });
}

function* mapIter<T, U>(items: Iterable<T>, f: (item: T) => U): Generator<U> {
  for (const item of items) yield f(item);
}
