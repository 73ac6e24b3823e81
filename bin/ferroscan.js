#!/usr/bin/env node
// ferroscan's executable: runs the compiled CLI (tsc builds ts/ into dist/).
import { run } from '../dist/cli/run.js';

await run();
