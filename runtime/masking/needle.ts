/**
 * A byte string searched through its rarest byte: `Buffer#indexOf` with a single byte is
 * several times cheaper per call than with a multi-byte needle, and an uppercase letter
 * such as the `K` of `AKIA` rarely occurs in ordinary text, so few hits need checking.
 */
export class Needle {
  readonly length: number;
  private readonly bytes: Buffer;
  private readonly anchor: number;
  private readonly anchorByte: number;

  constructor(text: string) {
    this.bytes = Buffer.from(text, "utf8");
    this.length = this.bytes.length;
    let anchor = 0;
    for (let i = 1; i < this.length; i++) if (rarity(this.bytes[i]!) > rarity(this.bytes[anchor]!)) anchor = i;
    this.anchor = anchor;
    this.anchorByte = this.bytes[anchor]!;
  }

  /** Offset of the first occurrence starting at or after `from`, or -1. */
  find(buf: Buffer, from: number): number {
    for (let hit = buf.indexOf(this.anchorByte, from + this.anchor); hit >= 0; hit = buf.indexOf(this.anchorByte, hit + 1)) {
      if (this.length === 1) return hit;
      const start = hit - this.anchor;
      if (start >= 0 && start + this.length <= buf.length && this.matchesAt(buf, start)) return start;
    }
    return -1;
  }

  /** A byte loop: needles are a few bytes, where `Buffer#compare`'s argument checks cost more than the comparison. */
  private matchesAt(buf: Buffer, start: number): boolean {
    for (let i = 0; i < this.length; i++) if (buf[start + i] !== this.bytes[i]) return false;
    return true;
  }
}

/** How unusual a byte is in ordinary text: uppercase consonants most, lowercase and space least. */
function rarity(c: number): number {
  if (c >= 0x41 && c <= 0x5a) return "AEIOST".includes(String.fromCharCode(c)) ? 3 : 4;
  if (c >= 0x61 && c <= 0x7a) return 0;
  if (c === 0x20) return 0;
  if (c >= 0x30 && c <= 0x39) return 1;
  return 2;
}
