// A set of IPv4 addresses (u32) as bitmaps of 65,536 bits, one per /16 that holds a member:
// the hosts already written by the streaming outputs. 8 KiB per /16 touched, whatever the
// order of insertion, so a sweep's set costs the same at every point of the scan.
export class HostSet {
  private readonly blocks = new Map<number, Uint32Array>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  has(value: number): boolean {
    const block = this.blocks.get(value >>> 16);
    return block !== undefined && (block[(value & 0xffff) >>> 5] & (1 << (value & 31))) !== 0;
  }

  /** Adds `value`; false when it was there already. */
  add(value: number): boolean {
    const hi = value >>> 16;
    let block = this.blocks.get(hi);
    if (!block) this.blocks.set(hi, (block = new Uint32Array(2048)));
    const i = (value & 0xffff) >>> 5;
    const bit = 1 << (value & 31);
    if (block[i] & bit) return false;
    block[i] |= bit;
    this.count++;
    return true;
  }
}
