// The lab a bench runs in (scripts/lab.sh): brought up fresh under the bench's own ID, checked
// to have no default route in the scanner namespace, and taken down at exit, on error and on
// SIGINT/SIGTERM/SIGHUP (deleting the namespaces also removes any iptables rule put there).
import { spawnSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const labSh = join(dirname(fileURLToPath(import.meta.url)), '..', 'scripts/lab.sh');

/**
 * A lab handle for ID `id`: up(env) (re)builds it and returns its facts (LAB_* keys of
 * `lab.sh up`), down() removes it. `cleanup` runs once at exit or on a signal, after down().
 */
export function benchLab(id, { name = 'bench', cleanup = () => {} } = {}) {
  if (process.getuid?.() !== 0) {
    console.error(`${name}: needs root (it creates network namespaces)`);
    process.exit(1);
  }
  const down = () => void spawnSync(labSh, ['down', id], { stdio: 'ignore' });
  const up = (env = {}) => {
    down();
    const r = spawnSync(labSh, ['up', id], { env: { ...process.env, ...env, LAB_OWNER_PID: String(process.pid) }, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`lab.sh up failed: ${r.stderr}`);
    const facts = Object.fromEntries(r.stdout.trim().split('\n').map((l) => l.split(/=(.*)/s).slice(0, 2)));
    // Hard check: nothing the scanner sends can leave the lab.
    const routes = spawnSync('ip', ['-n', facts.LAB_SCAN_NS, 'route', 'show', 'default'], { encoding: 'utf8' });
    if (routes.stdout.trim() !== '') throw new Error(`scanner namespace ${facts.LAB_SCAN_NS} has a default route`);
    return facts;
  };
  let cleaned = false;
  const finish = () => {
    if (cleaned) return;
    cleaned = true;
    down();
    cleanup();
  };
  process.on('exit', finish);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      finish();
      process.exit(130);
    });
  }
  return { up, down };
}
