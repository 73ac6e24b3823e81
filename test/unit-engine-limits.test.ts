// The CLI checks the engine's limits itself, in words, before the engine is loaded
// (ts/cli/validate.ts); these constants must be the engine's own.
import test from 'ava';
import { native } from '../ts/engine/native.js';
import { MAX_RETRIES } from '../ts/engine/prepare.js';

test('--max-retries: the TypeScript bound is the engine\'s MAX_RETRIES_LIMIT', (t) => {
  t.is(MAX_RETRIES, native().maxRetriesLimit());
});
