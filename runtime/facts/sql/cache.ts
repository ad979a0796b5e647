// A bounded cache. Two generations approximate LRU without reordering on every hit: when the
// young map is full it becomes the old one (the previous old one is dropped), and an old hit
// is promoted. Keys longer than `maxKeyLength` (bulk INSERTs) are not kept.

export class BoundedCache<V> {
  private young = new Map<string, V>();
  private old = new Map<string, V>();

  constructor(
    private readonly capacity: number,
    private readonly maxKeyLength: number,
  ) {}

  get(key: string): V | undefined {
    const hit = this.young.get(key);
    if (hit !== undefined) return hit;
    const old = this.old.get(key);
    if (old !== undefined) this.set(key, old);
    return old;
  }

  set(key: string, value: V): void {
    if (key.length > this.maxKeyLength) return;
    if (this.young.size >= this.capacity) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(key, value);
  }
}
