// The fuzzer's mutations, after libFuzzer's: byte and bit changes, inserts, erases,
// copies within the input, splices with another corpus input, dictionary words, and
// ASCII numbers swapped for interesting ones (the parsers read decimal text). A few are
// stacked per new input. Seeded, so a run can be repeated.

/** Numbers in [0, 1) from a seed (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 2 ** 32;
  };
}

// Boundaries of the grammars here: octets, ports, prefix lengths, 32-bit and safe integers.
const NUMBERS = ['0', '1', '7', '8', '9', '15', '16', '24', '31', '32', '33', '127', '128', '254', '255', '256', '1023', '1024', '65535', '65536', '99999', '2147483647', '4294967295', '4294967296', '9007199254740991', '9007199254740993', '-1', '00', '007', '1e3', '0x10'];
const BYTES = [0, 9, 10, 13, 32, 34, 35, 39, 42, 44, 45, 46, 47, 58, 92, 0x7f, 0x80, 0xff];

export class Mutator {
  private readonly words: Buffer[];

  constructor(
    private readonly random: () => number,
    dictionary: readonly string[],
    private readonly maxLen: number,
  ) {
    this.words = [...dictionary, ...NUMBERS].map((w) => Buffer.from(w, 'latin1'));
  }

  private int(n: number): number {
    return Math.floor(this.random() * n);
  }

  private pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)];
  }

  /** A new input from `base`, with 1-5 stacked mutations; `other` is for splicing. */
  mutate(base: Buffer, other: Buffer): Buffer {
    let b = base;
    const n = 1 + this.int(5);
    for (let i = 0; i < n; i++) b = this.once(b, other);
    return b.length > this.maxLen ? b.subarray(0, this.maxLen) : b;
  }

  private once(b: Buffer, other: Buffer): Buffer {
    const at = (): number => this.int(b.length + 1);
    switch (this.int(12)) {
      case 0: {
        // erase a run
        if (b.length === 0) return b;
        const s = this.int(b.length);
        const e = s + 1 + this.int(Math.min(16, b.length - s));
        return Buffer.concat([b.subarray(0, s), b.subarray(e)]);
      }
      case 1: {
        // insert one byte, or a repeated one
        const byte = this.random() < 0.5 ? this.pick(BYTES) : this.int(256);
        const count = this.random() < 0.8 ? 1 : 1 + this.int(64);
        const p = at();
        return Buffer.concat([b.subarray(0, p), Buffer.alloc(count, byte), b.subarray(p)]);
      }
      case 2:
      case 3: {
        // change a byte (an interesting one or any)
        if (b.length === 0) return Buffer.from([this.pick(BYTES)]);
        const c = Buffer.from(b);
        c[this.int(c.length)] = this.random() < 0.5 ? this.pick(BYTES) : this.int(256);
        return c;
      }
      case 4: {
        // flip a bit
        if (b.length === 0) return b;
        const c = Buffer.from(b);
        c[this.int(c.length)] ^= 1 << this.int(8);
        return c;
      }
      case 5: {
        // copy a part of the input elsewhere in it (inserted or over it)
        if (b.length === 0) return b;
        const s = this.int(b.length);
        const part = b.subarray(s, s + 1 + this.int(Math.min(32, b.length - s)));
        const p = at();
        if (this.random() < 0.5) return Buffer.concat([b.subarray(0, p), part, b.subarray(p)]);
        const c = Buffer.from(b);
        part.copy(c, Math.min(p, c.length - 1));
        return c;
      }
      case 6: {
        // splice: a prefix of this input, a suffix of another
        const p = at();
        const q = this.int(other.length + 1);
        return Buffer.concat([b.subarray(0, p), other.subarray(q)]);
      }
      case 7:
      case 8: {
        // insert a dictionary word
        const w = this.pick(this.words);
        const p = at();
        return Buffer.concat([b.subarray(0, p), w, b.subarray(p)]);
      }
      case 9: {
        // overwrite with a dictionary word
        const w = this.pick(this.words);
        const p = at();
        return Buffer.concat([b.subarray(0, p), w, b.subarray(p + w.length)]);
      }
      case 10: {
        // an ASCII number in the input becomes an interesting one
        const digits: number[] = [];
        for (let i = 0; i < b.length; i++) if (b[i] >= 48 && b[i] <= 57 && (i === 0 || b[i - 1] < 48 || b[i - 1] > 57)) digits.push(i);
        if (digits.length === 0) return b;
        const s = this.pick(digits);
        let e = s;
        while (e < b.length && b[e] >= 48 && b[e] <= 57) e++;
        const num = this.random() < 0.7 ? this.pick(NUMBERS) : String(this.int(70000));
        return Buffer.concat([b.subarray(0, s), Buffer.from(num, 'latin1'), b.subarray(e)]);
      }
      default: {
        // swap two bytes
        if (b.length < 2) return b;
        const c = Buffer.from(b);
        const i = this.int(c.length);
        const j = this.int(c.length);
        [c[i], c[j]] = [c[j], c[i]];
        return c;
      }
    }
  }
}
