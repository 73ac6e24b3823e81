// Helpers for the output lab tests: a ferroscan run inside the lab's scanner namespace that
// the test can signal while it runs, nmap's own checkers (xmllint with nmap.dtd, ndiff,
// xsltproc with nmap.xsl), and a scratch directory for the output files.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { ferroscanBin, type ExecResult, type Lab } from './lab.js';

export const NMAP_DTD = '/usr/share/nmap/nmap.dtd';
export const NMAP_XSL = '/usr/share/nmap/nmap.xsl';

/** A scratch directory removed when the test ends. */
export function scratch(t: ExecutionContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'ferroscan-lab-out-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface Running {
  child: ChildProcess;
  /** Resolves when the process has exited. */
  done: Promise<ExecResult>;
}

/** Starts ferroscan in the lab's scanner namespace (ip netns exec execs it: the pid is node's). */
export function startFerroscan(lab: Lab, args: string[], cwd: string): Running {
  const started = Date.now();
  const child = spawn('ip', ['netns', 'exec', lab.facts.scanNs, process.execPath, ferroscanBin, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout!.on('data', (b: Buffer) => out.push(b));
  child.stderr!.on('data', (b: Buffer) => err.push(b));
  const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
  const done = new Promise<ExecResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), ms: Date.now() - started });
    });
  });
  return { child, done };
}

/** Polls until `check` holds (or throws after `ms`). */
export async function waitFor(what: string, check: () => boolean, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const readText = (path: string): string => (existsSync(path) ? readFileSync(path, 'utf8') : '');

/** xmllint --dtdvalid with nmap's DTD: ok, and what xmllint said. */
export function validateXml(path: string): { ok: boolean; out: string } {
  const r = spawnSync('xmllint', ['--noout', '--dtdvalid', NMAP_DTD, path], { encoding: 'utf8' });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
}

/** xsltproc with nmap.xsl: ok, and the HTML. */
export function renderHtml(path: string): { ok: boolean; html: string; err: string } {
  const r = spawnSync('xsltproc', [NMAP_XSL, path], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return { ok: r.status === 0, html: r.stdout, err: r.stderr };
}

/**
 * Port and host-state differences that Debian's ndiff reports between two nmap XML files.
 * Read from `ndiff --xml`: every <portdiff>, and every host whose <status> differs. Header
 * differences (scanner version, times, args) and addresses (nmap's MAC) are not counted.
 * Throws when ndiff fails (exit 2: it could not read a file).
 */
export function ndiffDifferences(a: string, b: string): { diffs: string[]; text: string } {
  const r = spawnSync('ndiff', ['--xml', a, b], { encoding: 'utf8' });
  if (r.status !== 0 && r.status !== 1) throw new Error(`ndiff failed (${r.status}): ${r.stderr}`);
  const diffs: string[] = [];
  for (const m of r.stdout.matchAll(/<portdiff>([\s\S]*?)<\/portdiff>/g)) diffs.push(`portdiff: ${m[1].replace(/\s+/g, ' ')}`);
  for (const m of r.stdout.matchAll(/<hostdiff>([\s\S]*?)<\/hostdiff>/g)) {
    if (/<status /.test(m[1])) diffs.push(`host status: ${m[1].replace(/\s+/g, ' ')}`);
  }
  const text = spawnSync('ndiff', [a, b], { encoding: 'utf8' }).stdout;
  return { diffs, text };
}

/** A grepable file's host lines (Host: ... Status / Ports), comments left out. */
export function grepableHostLines(text: string): string[] {
  return text.split('\n').filter((l) => l.startsWith('Host: '));
}
