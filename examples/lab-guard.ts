// Shared by the examples: the target they scan. Examples only ever scan this machine's
// loopback or the lab range 198.18.0.0/15 (see the README's "The test lab"); anything else
// is refused, so a copied example cannot be pointed at someone else's network by accident.
const LAB = /^(127\.\d+\.\d+\.\d+|198\.1[89]\.\d+\.\d+)(\/\d+)?$/;

/** The target from argv[2] or FERROSCAN_TARGET, 127.0.0.1 when neither is given. */
export function exampleTarget(): string {
  const target = process.argv[2] ?? process.env.FERROSCAN_TARGET ?? '127.0.0.1';
  if (!LAB.test(target)) {
    process.stderr.write(`example: refusing to scan ${target}: examples only scan 127.0.0.0/8 or the lab range 198.18.0.0/15\n`);
    process.exit(1);
  }
  return target;
}
