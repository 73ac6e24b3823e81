// The Temporal SDK, loaded only when a distributed scan or a worker needs it: the packages are
// optional peer dependencies, so plain scanning neither installs nor loads them. A missing
// package is one line naming what to install.
import { FerroscanError } from '../errors.js';

/** The packages `ferroscan worker` and `ferroscan --temporal` need. */
export const TEMPORAL_PACKAGES = ['@temporalio/client', '@temporalio/worker', '@temporalio/workflow', '@temporalio/activity'] as const;

/** The Temporal SDK is not installed (or not loadable) where ferroscan runs. */
export class ClusterError extends FerroscanError {}

function missing(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}

async function load<T>(what: string, importer: () => Promise<T>): Promise<T> {
  try {
    return await importer();
  } catch (e) {
    if (!missing(e)) throw new ClusterError(`cannot load ${what}: ${(e as Error).message.split('\n')[0]}`);
    throw new ClusterError(`distributed scans need the Temporal SDK, which is not installed: npm install ${TEMPORAL_PACKAGES.join(' ')}`);
  }
}

/** The gist of a connection failure: the OS's words when the SDK wraps them (tonic's Debug text). */
export function connectFailure(e: unknown): string {
  const text = (e as Error)?.message ?? String(e);
  return (/message: "([^"]+)"/.exec(text)?.[1] ?? text).split('\n')[0];
}

export type ClientSdk = typeof import('@temporalio/client');
export type WorkerSdk = typeof import('@temporalio/worker');

export function loadClientSdk(): Promise<ClientSdk> {
  return load('@temporalio/client', () => import('@temporalio/client'));
}

export function loadWorkerSdk(): Promise<WorkerSdk> {
  return load('@temporalio/worker', () => import('@temporalio/worker'));
}
