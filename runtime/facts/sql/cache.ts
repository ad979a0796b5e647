// A bounded least-recently-used map, bounded both in entries and in total key length.

export class LruCache<V> {
  private readonly entries = new Map<string, V>();
  private weight = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly maxChars: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: string): V | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  set(key: string, value: V): void {
    if (key.length > this.maxChars) return;
    if (this.entries.delete(key)) this.weight -= key.length;
    this.entries.set(key, value);
    this.weight += key.length;
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.maxEntries && this.weight <= this.maxChars) break;
      this.entries.delete(oldest);
      this.weight -= oldest.length;
    }
  }

  clear(): void {
    this.entries.clear();
    this.weight = 0;
  }
}
