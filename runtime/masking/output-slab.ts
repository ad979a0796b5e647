const SLAB_BYTES = 64 * 1024;

/**
 * Space for rebuilt messages, handed out in slices of one larger buffer as Node does for small
 * Buffers: a view of the slab costs less than an allocation, and a message built inside the
 * slab from a copy of its source moves its pieces with `copyWithin`, cheaper than copying
 * between two buffers. A slab stays alive while any message handed out from it does.
 */
export class OutputSlab {
  /** the largest `room` request served from a slab */
  static readonly MAX_ROOM = SLAB_BYTES / 4;
  buffer: Buffer = Buffer.allocUnsafeSlow(SLAB_BYTES);
  private used = 0;

  /** Offset of `bytes` (at most `MAX_ROOM`) free bytes in `buffer`, which may be a new slab. */
  room(bytes: number): number {
    if (this.used + bytes > this.buffer.length) {
      this.buffer = Buffer.allocUnsafeSlow(SLAB_BYTES);
      this.used = 0;
    }
    return this.used;
  }

  /** `buffer[at, at + size)` as a Buffer of its own; the slab never writes there again. */
  take(at: number, size: number): Buffer {
    this.used = (at + size + 7) & ~7;
    return Buffer.from(this.buffer.buffer, this.buffer.byteOffset + at, size);
  }
}
