// A bounded cache of SQL facts by statement text: applications send the same statements over
// and over, and parsing costs far more than deciding. Two generations approximate LRU without
// reordering on every hit: when the young map is full it becomes the old one, and an old hit
// is promoted. Facts are plain data that nobody mutates, so sharing them is safe.

export class FactsCache<T> {
  private young = new Map<string, T>();
  private old = new Map<string, T>();

  constructor(
    private readonly extract: (text: string) => T,
    private readonly capacity = 4096,
    /** longer texts (bulk INSERTs) are parsed every time rather than pinned in memory */
    private readonly maxKeyLength = 8192,
  ) {}

  get(text: string): T {
    const hit = this.young.get(text);
    if (hit !== undefined) return hit;
    const value = this.old.get(text) ?? this.extract(text);
    if (text.length <= this.maxKeyLength) this.remember(text, value);
    return value;
  }

  private remember(text: string, value: T): void {
    if (this.young.size >= this.capacity) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(text, value);
  }
}
