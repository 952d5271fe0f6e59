// The host driver's software copy of the SMPT (mic_smpt.c): 32 entries of 16 GiB with a byte
// reference count each. mic_map finds entries already mapping the pages or a run of free ones
// and returns the MIC address the card must use (reference §3).

import { SMPT_PAGE, SMPT_SLOTS, SMPT_WINDOW_BASE } from '../../card/smpt.ts';

export const SMPT_MAX_MAP = SMPT_SLOTS * SMPT_PAGE; // 512 GiB

export interface SmptEntryState {
  /** host DMA base of this entry */
  base: number;
  refCount: number;
}

export class SmptAllocator {
  readonly entries: SmptEntryState[] = Array.from({ length: SMPT_SLOTS }, (_, i) => ({
    base: i * SMPT_PAGE,
    refCount: 0,
  }));
  /** Called when an entry's base must be (re)programmed into SMPT[i]. */
  program: (slot: number, base: number) => void = () => {};
  warnings: string[] = [];

  /** mic_map: returns the MIC address, or 0 on failure (size 0, > 512 GiB, no room). */
  map(hostAddr: number, size: number): number {
    if (size === 0 || size > SMPT_MAX_MAP) return 0;
    const first = Math.floor(hostAddr / SMPT_PAGE);
    const last = Math.floor((hostAddr + size - 1) / SMPT_PAGE);
    const n = last - first + 1;
    const bases = Array.from({ length: n }, (_, k) => (first + k) * SMPT_PAGE);
    let slot = this.findExisting(bases);
    if (slot === -2) return 0; // the driver's quirk: a broken partial match fails outright
    if (slot < 0) slot = this.findFree(n);
    if (slot < 0) return 0;
    for (let k = 0; k < n; k++) {
      const e = this.entries[slot + k];
      if (e.refCount === 0 && e.base !== bases[k]) {
        e.base = bases[k];
        this.program(slot + k, e.base);
      }
      // A byte reference count, as the driver keeps it: the bytes of this range in this page.
      const pageStart = bases[k];
      const lo = Math.max(hostAddr, pageStart);
      const hi = Math.min(hostAddr + size, pageStart + SMPT_PAGE);
      e.refCount += hi - lo;
    }
    return SMPT_WINDOW_BASE + slot * SMPT_PAGE + (hostAddr % SMPT_PAGE);
  }

  /**
   * mic_unmap: only lowers the refcounts. One that goes below zero stays there, with a
   * warning, as mic_smpt.c leaves it (dev_warn "ref count ... is negative").
   */
  unmap(micAddr: number, size: number): void {
    if (micAddr < SMPT_WINDOW_BASE || size === 0) return;
    const slot = Math.floor((micAddr - SMPT_WINDOW_BASE) / SMPT_PAGE);
    const off = (micAddr - SMPT_WINDOW_BASE) % SMPT_PAGE;
    let remaining = size;
    let pageOff = off;
    for (let s = slot; s < SMPT_SLOTS && remaining > 0; s++) {
      const bytes = Math.min(remaining, SMPT_PAGE - pageOff);
      const e = this.entries[s];
      e.refCount -= bytes;
      if (e.refCount < 0) this.warnings.push(`smpt: refcount of entry ${s} went negative (${e.refCount})`);
      remaining -= bytes;
      pageOff = 0;
    }
  }

  /** MIC address of a host address already mapped, or 0 (mic_map_single's lookup). */
  micAddressOf(hostAddr: number): number {
    const page = Math.floor(hostAddr / SMPT_PAGE) * SMPT_PAGE;
    const i = this.entries.findIndex((e) => e.base === page && e.refCount > 0);
    return i < 0 ? 0 : SMPT_WINDOW_BASE + i * SMPT_PAGE + (hostAddr % SMPT_PAGE);
  }

  private findExisting(bases: number[]): number {
    for (let i = 0; i + bases.length <= SMPT_SLOTS; i++) {
      // Like mic_smpt_op's lookup: an entry that already holds the page is reused whatever
      // its refcount (after reset every entry i holds page i, the identity mapping).
      const e = this.entries[i];
      if (e.base !== bases[0]) continue;
      for (let k = 1; k < bases.length; k++) {
        const f = this.entries[i + k];
        if (f.base !== bases[k]) return -2;
      }
      return i;
    }
    return -1;
  }

  private findFree(n: number): number {
    for (let i = 0; i + n <= SMPT_SLOTS; i++) {
      let ok = true;
      for (let k = 0; k < n && ok; k++) ok = this.entries[i + k].refCount === 0;
      if (ok) return i;
    }
    return -1;
  }
}
