// The bytes a text-format bytea stands for. PostgreSQL prints bytea as `\x` and hex digits (and
// inside an array, `"\\x…"`): every such run in a value is decoded, back to back, into one reused
// buffer for the detectors to scan.

const BACKSLASH = 0x5c;
const X = 0x78;

/** hex digit → value, 255 for any other byte */
const NIBBLE = new Uint8Array(256).fill(255);
for (let i = 0; i < 10; i++) NIBBLE[0x30 + i] = i;
for (let i = 0; i < 6; i++) {
  NIBBLE[0x41 + i] = 10 + i;
  NIBBLE[0x61 + i] = 10 + i;
}

export class HexRuns {
  buffer: Buffer = Buffer.allocUnsafe(256);

  /**
   * Decodes every `\x` hex run of `buf[start, end)` into `buffer`; returns the decoded length,
   * or -1 when a run has an odd number of digits (not what the server prints).
   */
  decode(buf: Buffer, start: number, end: number): number {
    let length = 0;
    for (let i = start; i + 1 < end; i++) {
      if (buf[i] !== BACKSLASH || buf[i + 1] !== X) continue;
      let j = i + 2;
      while (j < end && NIBBLE[buf[j]!] !== 255) j++;
      const digits = j - (i + 2);
      if (digits % 2 !== 0) return -1;
      if (length + digits / 2 > this.buffer.length) this.grow(length + digits / 2);
      for (let k = i + 2; k < j; k += 2) this.buffer[length++] = (NIBBLE[buf[k]!]! << 4) | NIBBLE[buf[k + 1]!]!;
      i = j - 1;
    }
    return length;
  }

  private grow(needed: number): void {
    const next = Buffer.allocUnsafe(Math.max(needed, 2 * this.buffer.length));
    this.buffer.copy(next);
    this.buffer = next;
  }
}
