// The host OS as far as the MIC stack needs it: one address space, a page allocator, a kernel
// log, and MSI-X delivery into the per-card driver.

import { PCI_HOLE_START, type HostSpace } from '../bus/hostSpace.ts';
import type { Scheduler } from '../sim/scheduler.ts';
import type { Spine } from '../sim/spine.ts';
import { KERN_INFO } from '../sim/busEvent.ts';
import { HostRamAllocator } from './hostRamAllocator.ts';

export interface HostLogLine {
  time: number;
  text: string;
}

export class HostKernel {
  readonly alloc: HostRamAllocator;
  readonly log: HostLogLine[] = [];
  onLog: ((line: HostLogLine) => void) | null = null;

  constructor(
    readonly sched: Scheduler,
    readonly spine: Spine,
    readonly io: HostSpace,
  ) {
    // Keep the first 256 MiB for the "rest of the host"; driver buffers come from above it,
    // below the 32-bit PCI hole.
    this.alloc = new HostRamAllocator(0x1000_0000, Math.min(io.ram.size, PCI_HOLE_START) - 0x1000_0000);
  }

  printk(text: string): void {
    const line = { time: this.sched.now, text };
    this.log.push(line);
    if (this.log.length > 4096) this.log.splice(0, 1024);
    this.spine.log('host', 0, text.length, KERN_INFO, text, text);
    this.onLog?.(line);
  }
}

/** Linux error numbers the driver returns (as negatives). */
export const E = {
  EPERM: 1,
  ENOENT: 2,
  EIO: 5,
  ENXIO: 6,
  ENOMEM: 12,
  EFAULT: 14,
  EBUSY: 16,
  ENODEV: 19,
  EINVAL: 22,
  ENOSPC: 28,
  ELOOP: 40,
  ETIMEDOUT: 110,
} as const;

export function errName(neg: number): string {
  const n = -neg;
  for (const [k, v] of Object.entries(E)) if (v === n) return `-${k}`;
  return String(neg);
}
