// The accessor a software model uses for one address space. Every call is one bus transaction
// (one event); routines write `const v = yield io.read32(a)` so the machine may stop right after.

export interface Io {
  /** Space name used in event records for addresses this accessor resolves to. */
  readonly name: string;
  read8(addr: number): number;
  read16(addr: number): number;
  read32(addr: number): number;
  read64(addr: number): number;
  write8(addr: number, v: number): number;
  write16(addr: number, v: number): number;
  write32(addr: number, v: number): number;
  write64(addr: number, v: number): number;
  /** Bulk read: one event of size len. */
  read(addr: number, len: number): Uint8Array;
  /** read() into dst[dstOff…dstOff+len): the same transaction and event, no new array. Returns len. */
  readInto(addr: number, dst: Uint8Array, dstOff: number, len: number): number;
  /** Bulk write: one event of size data.length. */
  write(addr: number, data: Uint8Array): number;
}
