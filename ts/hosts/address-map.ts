// A map keyed by IPv4 addresses as 32-bit numbers. V8's Map stores numbers above 2^30 as heap
// numbers and hashes them slowly: a /16 sweep's model spent ~70 ms of its report phase in
// Map.get alone. Open addressing over a Uint32Array of keys is several times faster.

export class AddressMap<V> {
  private keys: Uint32Array;
  private used: Uint8Array;
  private vals: (V | undefined)[];
  private mask: number;
  private count = 0;

  constructor(capacity = 1024) {
    const n = 2 ** Math.max(4, Math.ceil(Math.log2(capacity * 2)));
    this.keys = new Uint32Array(n);
    this.used = new Uint8Array(n);
    this.vals = new Array<V | undefined>(n);
    this.mask = n - 1;
  }

  get size(): number {
    return this.count;
  }

  private slot(key: number): number {
    // a multiplicative mix: neighbouring addresses land far apart
    let i = Math.imul(key ^ (key >>> 15), 0x2c1b3c6d) >>> 0;
    i = (i ^ (i >>> 12)) & this.mask;
    while (this.used[i] && this.keys[i] !== key) i = (i + 1) & this.mask;
    return i;
  }

  get(key: number): V | undefined {
    const i = this.slot(key >>> 0);
    return this.used[i] ? this.vals[i] : undefined;
  }

  has(key: number): boolean {
    return this.used[this.slot(key >>> 0)] === 1;
  }

  set(key: number, value: V): this {
    const k = key >>> 0;
    let i = this.slot(k);
    if (!this.used[i]) {
      if ((this.count + 1) * 2 > this.keys.length) {
        this.grow();
        i = this.slot(k);
      }
      this.used[i] = 1;
      this.keys[i] = k;
      this.count++;
    }
    this.vals[i] = value;
    return this;
  }

  private grow(): void {
    const { keys, used, vals } = this;
    const n = keys.length * 2;
    this.keys = new Uint32Array(n);
    this.used = new Uint8Array(n);
    this.vals = new Array<V | undefined>(n);
    this.mask = n - 1;
    for (let i = 0; i < keys.length; i++) {
      if (!used[i]) continue;
      const j = this.slot(keys[i]);
      this.used[j] = 1;
      this.keys[j] = keys[i];
      this.vals[j] = vals[i];
    }
  }

  *entries(): Generator<[number, V]> {
    for (let i = 0; i < this.keys.length; i++) if (this.used[i]) yield [this.keys[i], this.vals[i] as V];
  }

  *values(): Generator<V> {
    for (let i = 0; i < this.keys.length; i++) if (this.used[i]) yield this.vals[i] as V;
  }
}
