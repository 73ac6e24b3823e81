// Least privilege for a CLI run as root. Root is needed to open raw sockets and nothing
// else, so once the first engine of the run has opened its sockets (and the files it opens
// by name: --pcap), the whole process becomes an unprivileged user — the one who ran sudo
// (SUDO_UID/SUDO_GID), else `nobody` — keeping only CAP_NET_RAW and CAP_NET_ADMIN on the
// main thread for the rest of the run (crates/core/src/privilege.rs):
// - later engine starts of the same run open raw sockets again (discovery's next probe kind,
//   the port scan, the UDP scan of -sS -sU): CAP_NET_RAW;
// - --rst-policy suppress removes its iptables rule when the scan ends, from a child process:
//   CAP_NET_ADMIN and CAP_NET_RAW, raised as ambient capabilities for that case only;
// - output files are opened before the first packet and written through their descriptors,
//   so they stay writable (they belong to root, as nmap's do under sudo); a file written by
//   name later (the resume file of an interrupted run) is written as the unprivileged user,
//   and when that user cannot write there the command to continue is printed instead
//   (ts/cli/plan.ts, saveResume);
// - /proc/net/route, /proc/net/arp, /sys/class/net and nmap's data files are world-readable.
// `--no-drop-privileges` keeps root. The library's scan() never changes the process's user:
// only the CLI arms the drop.
import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ScanError } from '../errors.js';
import { native, type NativeScanOptions } from './native.js';

/** Who root is given up to. `name` lists the supplementary groups; without it only `gid`. */
export interface Account {
  name?: string;
  uid: number;
  gid: number;
}

export interface DropPlan {
  account: Account;
  /** Raise the kept capabilities as ambient ones, so child processes (iptables) have them. */
  ambient: boolean;
  /** Drop only after the engine start that opens this pcap file (the engine opens it by name). */
  pcap?: string;
}

/** The capabilities a run keeps after root is gone. */
export const KEPT_CAPABILITIES = ['net_raw', 'net_admin'] as const;

let pending: DropPlan | undefined;
let droppedTo: (Account & { groups: number[] }) | undefined;

const ID = /^\d{1,10}$/;

/**
 * Who a run as root gives root up to: the user who ran sudo (SUDO_UID and SUDO_GID, named
 * by SUDO_USER when the user database agrees), else `nobody`. Undefined when the process is
 * not root. Throws a ScanError when neither exists.
 */
export function dropAccount(env: NodeJS.ProcessEnv = process.env, euid = process.geteuid?.() ?? -1): Account | undefined {
  if (euid !== 0) return undefined;
  const { SUDO_UID: uid, SUDO_GID: gid, SUDO_USER: user } = env;
  if (uid !== undefined && gid !== undefined && ID.test(uid) && ID.test(gid) && Number(uid) !== 0) {
    const account: Account = { uid: Number(uid), gid: Number(gid) };
    const known = user ? native().lookUpUser(user) : null;
    if (known && known.uid === account.uid && known.name) account.name = known.name;
    return account;
  }
  const nobody = native().lookUpUser('nobody');
  if (!nobody || nobody.uid === 0) throw new ScanError('cannot give up root: there is no user "nobody" (--no-drop-privileges keeps root)', 'EPRIV');
  return { name: nobody.name ?? 'nobody', uid: nobody.uid, gid: nobody.gid };
}

/**
 * Whether `account` may read `path` once root is gone (files the run opens by name after the
 * drop, such as -sV's --versiondb): search permission on every directory above it, read
 * permission on the file, by owner, group or other bits (ACLs are not read). `groups` are the
 * account's supplementary groups when known.
 */
export function readableBy(path: string, account: Account, groups: readonly number[] = [account.gid]): boolean {
  const allowed = (p: string, bit: 4 | 1): boolean => {
    try {
      const s = statSync(p);
      const mode = s.mode & 0o777;
      if (s.uid === account.uid) return ((mode >> 6) & bit) !== 0;
      if (s.gid === account.gid || groups.includes(s.gid)) return ((mode >> 3) & bit) !== 0;
      return (mode & bit) !== 0;
    } catch {
      return false;
    }
  };
  const full = resolve(path);
  for (let dir = dirname(full); ; dir = dirname(dir)) {
    if (!allowed(dir, 1)) return false;
    if (dir === dirname(dir)) break;
  }
  return allowed(full, 4);
}

/**
 * Whether `account` may create, rename and remove files in directory `dir` once root is
 * gone (output files are written as NAME.part and renamed over NAME at the end): search
 * permission on every directory above it, write and search permission on it. A sticky
 * directory (such as /tmp) lets only a file's owner rename it, and the run's files are
 * created before the drop, as root: there only a directory the account owns will do.
 */
export function writableBy(dir: string, account: Account, groups: readonly number[] = [account.gid]): boolean {
  const full = resolve(dir);
  let s: ReturnType<typeof statSync>;
  try {
    s = statSync(full);
  } catch {
    return false;
  }
  if ((s.mode & 0o1000) !== 0 && s.uid !== account.uid) return false;
  const mode = s.mode & 0o777;
  const bits = s.uid === account.uid ? mode >> 6 : s.gid === account.gid || groups.includes(s.gid) ? mode >> 3 : mode;
  if ((bits & 3) !== 3) return false;
  return searchable(full, account, groups);
}

/** Search permission on every directory above `path` (the directory itself is checked by the caller). */
function searchable(path: string, account: Account, groups: readonly number[]): boolean {
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    try {
      const s = statSync(dir);
      const mode = s.mode & 0o777;
      const bits = s.uid === account.uid ? mode >> 6 : s.gid === account.gid || groups.includes(s.gid) ? mode >> 3 : mode;
      if ((bits & 1) === 0) return false;
    } catch {
      return false;
    }
    if (dir === dirname(dir)) return true;
  }
}

/** Arms the drop: it happens right after the next engine start that opens the raw sockets (and the pcap). */
export function armDrop(plan: DropPlan): void {
  pending = plan;
}

/** Whom the process runs as since the drop; undefined before it (or when it never happens). */
export function currentDrop(): (Account & { groups: number[] }) | undefined {
  return droppedTo;
}

/**
 * Called by startEngine right after an engine started: performs an armed drop once this
 * engine holds the sockets (and the pcap file). A failed drop is a ScanError (EPRIV); the
 * caller stops that engine, since the process may be half changed.
 */
export function afterEngineStart(options: NativeScanOptions): void {
  const plan = pending;
  if (!plan) return;
  if (plan.pcap !== undefined && options.pcap !== plan.pcap) return;
  pending = undefined;
  try {
    const groups = native().dropPrivileges({ name: plan.account.name, uid: plan.account.uid, gid: plan.account.gid }, [...KEPT_CAPABILITIES], plan.ambient);
    droppedTo = { ...plan.account, groups };
  } catch (e) {
    const message = ((e as Error).message ?? String(e)).replace(/^[A-Z]+:\s*/, '');
    throw new ScanError(`cannot give up root: ${message} (--no-drop-privileges keeps root)`, 'EPRIV');
  }
}
