// Worker entry: worker threads do not inherit the main thread's --import=tsx, so the
// worker registers tsx itself before loading the TypeScript fuzz loop.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
