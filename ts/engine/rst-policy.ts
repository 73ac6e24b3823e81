// What happens to the RSTs this host's kernel sends when a SYN scan's SYN/ACKs arrive.
//
// The kernel knows nothing of the raw probes, so it answers every SYN/ACK with a RST. Two
// choices (--rst-policy):
// - 'kernel' (the default, as nmap, masscan's default and zmap): leave the kernel alone. Each
//   open port costs one RST from this host, and the target frees its half-open connection at
//   once.
// - 'suppress': a raw-table rule in this network namespace drops the SYN/ACKs addressed to the
//   scan's own source ports before the kernel's TCP sees them (the engine's packet socket still
//   gets them: taps come before netfilter), so no RST leaves. The target then keeps each
//   half-open connection until its SYN/ACK retries give up (Linux: tcp_synack_retries 5, about
//   a minute), filling listen backlogs on big port ranges, and a repeat scan from the same
//   source port in that time meets the old connection. Measured on the lab
//   (benches/RESULTS.md): no faster on this machine.
// The rule matches only SYN/ACKs to the scan's source ports (the port and one per
// retransmission), carries "ferroscan-rst:<pid>" as its comment, and is removed when the scan
// ends, fails or is interrupted, and at process exit; rules left by a killed process are
// removed by the next run in the same namespace.
import { execFileSync } from 'node:child_process';
import { ScanError } from '../errors.js';

export type RstPolicy = 'kernel' | 'suppress';
export const RST_POLICIES: readonly RstPolicy[] = ['kernel', 'suppress'];

const TAG = 'ferroscan-rst:';
const CHAIN = ['-t', 'raw'];

/** A suppression rule in place; release() removes it (idempotent). */
export interface RstGuard {
  readonly rule: readonly string[];
  release(): void;
}

function iptables(args: readonly string[]): string {
  return execFileSync('iptables', ['-w', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function firstLine(e: unknown): string {
  const err = e as { stderr?: string; message?: string; code?: string };
  if (err.code === 'ENOENT') return 'iptables is not installed';
  return (err.stderr || err.message || String(e)).trim().split('\n')[0];
}

/** The rule's match, without the -A/-D/-I verb: SYN/ACKs to ports [first, last]. */
export function ruleFor(firstPort: number, lastPort: number, pid = process.pid): string[] {
  if (!(Number.isInteger(firstPort) && Number.isInteger(lastPort) && firstPort >= 1 && lastPort <= 65535 && firstPort <= lastPort)) {
    throw new ScanError(`invalid source port range ${firstPort}-${lastPort} for --rst-policy suppress`, 'EINVAL');
  }
  return ['PREROUTING', '-p', 'tcp', '--tcp-flags', 'SYN,ACK,RST', 'SYN,ACK', '--dport', `${firstPort}:${lastPort}`, '-m', 'comment', '--comment', `${TAG}${pid}`, '-j', 'DROP'];
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes suppression rules whose process is gone (a killed scan); returns how many. */
export function removeStaleRules(): number {
  let listing: string;
  try {
    listing = iptables([...CHAIN, '-S', 'PREROUTING']);
  } catch {
    return 0;
  }
  const tagged = new RegExp(`--comment "?${TAG}(\\d+)"?`);
  let removed = 0;
  for (const line of listing.split('\n')) {
    const m = tagged.exec(line);
    if (!m || !line.startsWith('-A PREROUTING ')) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || alive(pid)) continue;
    // -S prints the rule as -A would take it; the same words after -D remove it.
    const words = line.slice('-A '.length).match(/"[^"]*"|\S+/g) ?? [];
    try {
      iptables([...CHAIN, '-D', ...words.map((w) => w.replace(/^"(.*)"$/, '$1'))]);
      removed++;
    } catch {
      // another run removed it first
    }
  }
  return removed;
}

const held = new Set<RstGuard>();
let exitHook = false;

/**
 * Drops SYN/ACKs to source ports [firstPort, lastPort] in this namespace's raw table until
 * release(). Throws ScanError (EINVAL) with iptables' own first line when iptables is
 * missing or refuses (not root, no raw table).
 */
export function suppressRsts(firstPort: number, lastPort: number): RstGuard {
  const rule = ruleFor(firstPort, lastPort);
  removeStaleRules();
  try {
    iptables([...CHAIN, '-I', ...rule]);
  } catch (e) {
    const why = firstLine(e);
    // not EPERM: that code means "no raw sockets" (and a fallback to -sT) elsewhere
    throw new ScanError(`--rst-policy suppress: cannot add the raw-table rule: ${why}`, 'EINVAL');
  }
  let released = false;
  const guard: RstGuard = {
    rule,
    release() {
      if (released) return;
      released = true;
      held.delete(guard);
      try {
        iptables([...CHAIN, '-D', ...rule]);
      } catch {
        // already gone (removed by hand or by a namespace teardown)
      }
    },
  };
  held.add(guard);
  if (!exitHook) {
    exitHook = true;
    // process.exit() and fatal errors skip finally blocks; 'exit' handlers still run (synchronously).
    process.on('exit', () => {
      for (const g of [...held]) g.release();
    });
  }
  return guard;
}

/** Whether a technique's probes draw SYN/ACKs from open ports (so the policy matters). */
export function drawsSynAck(technique: string, tcpFlags?: number): boolean {
  if (technique === 'syn') return true;
  // --scanflags with SYN set and ACK, RST clear: open ports answer SYN/ACK
  return technique === 'flags' && tcpFlags !== undefined && (tcpFlags & 0x02) !== 0 && (tcpFlags & 0x14) === 0;
}
