// Fuzz target: the resume file (ts/engine/resume.ts) and --shard values: any text is either a
// valid state or one UsageError. Invariants of a state read back: version 1, a string
// argv, a decimal seed, a non-negative safe start position; of a shard, 1 ≤ i ≤ N.
import { UsageError } from '../../ts/errors.js';
import { parseResumeFile, parseShard, resumableArgv } from '../../ts/engine/resume.js';
import { allow, check, type FuzzTarget } from './index.js';

export const target: FuzzTarget = {
  maxLen: 1024,
  dictionary: ['{', '}', '[', ']', '"', ':', ',', 'null', 'true', '"version"', '"argv"', '"seed"', '"startPosition"', '1', '"--seed"', '"--start-position=5"', '"198.18.0.0/24"', '/', '\\u0000', '"__proto__"', '1e400', '-0'],
  run(input) {
    const text = input.toString('utf8');
    try {
      const s = parseResumeFile(text, 'fuzz.resume');
      check(s.version === 1 && Array.isArray(s.argv) && s.argv.every((a) => typeof a === 'string'), 'version and argv');
      check(typeof s.seed === 'string' && /^\d+$/.test(s.seed), 'decimal seed');
      check(Number.isSafeInteger(s.startPosition) && s.startPosition >= 0, 'start position');
      const argv = resumableArgv(s.argv);
      check(argv.every((a) => typeof a === 'string') && argv.length <= s.argv.length, 'resumable argv');
      check(!argv.some((a) => a === '--seed' || a.startsWith('--seed=') || a === '--start-position' || a.startsWith('--start-position=')), 'resume options removed');
    } catch (e) {
      allow(e, UsageError);
    }
    try {
      const { index, count } = parseShard(text);
      check(Number.isSafeInteger(index) && Number.isSafeInteger(count) && index >= 1 && index <= count, 'shard i/N');
    } catch (e) {
      allow(e, UsageError);
    }
  },
};
