// The X100's cores as its operating system finds them (CPUID): the SKU the emulator models.
// The card OS sizes itself from it, and /proc/cpuinfo (cardSoftware/shell/cpuinfo.ts) prints it.

export interface CpuDescription {
  cores: number;
  threadsPerCore: number;
  mhz: number;
  /** Silicon stepping as Intel names it ("B1", "C0") or the CPUID stepping number ("3"). */
  stepping: string;
  bogomips?: number;
}

/** The X100 SKU the emulator models by default: 57 cores x 4 threads at 1.1 GHz, C0 silicon. */
export const X100_DEFAULT_CPU: Readonly<CpuDescription> = Object.freeze({
  cores: 57,
  threadsPerCore: 4,
  mhz: 1100,
  stepping: 'C0',
});
