// /proc/cpuinfo as the card's Linux prints it for a Knights Corner (X100) coprocessor.
// Field names and tab padding follow arch/x86/kernel/cpu/proc.c (show_cpuinfo) literally.

import { X100_DEFAULT_CPU, type CpuDescription } from '../../card/x100Cpu.ts';

export const KNC_CPU_FLAGS =
  'fpu vme de pse tsc msr pae mce cx8 apic mtrr mca pat fxsr ht syscall nx lm nopl lahf_lm';

// Choice: /proc/cpuinfo prints the CPUID stepping *number*, so Intel's stepping names are
// mapped in the order the KNC parts were released: A0=0, B0=1, B1=2, C0=3 (C0, the
// production silicon of the 3100/5100/7100 SKUs, reports stepping 3). A purely numeric
// string is printed as is; anything unrecognised prints 0.
const STEPPINGS: Record<string, number> = { A0: 0, B0: 1, B1: 2, C0: 3 };

export function steppingNumber(stepping: string): number {
  const s = String(stepping ?? '')
    .trim()
    .toUpperCase();
  if (/^\d{1,3}$/.test(s)) return Number(s);
  return STEPPINGS[s] ?? 0;
}

export interface LogicalCpu {
  processor: number;
  coreId: number;
  thread: number;
  apicid: number;
}

/**
 * Logical CPU numbering as on a real KNC card: the bootstrap processor (cpu 0) is thread 0 of
 * the LAST core; cpus 1..(cores-1)*threads walk cores 0.. in order, thread by thread; the last
 * threads-1 cpus are the remaining threads of the last core. APIC ids are core*4 + thread
 * (the stride is the next power of two >= threadsPerCore, i.e. 4 on every X100 SKU).
 */
export function knightsCornerCpu(processor: number, cores: number, threadsPerCore: number): LogicalCpu {
  const last = cores - 1;
  const firstOfLastCore = last * threadsPerCore + 1;
  let coreId: number;
  let thread: number;
  if (processor === 0) {
    coreId = last;
    thread = 0;
  } else if (processor < firstOfLastCore) {
    coreId = Math.floor((processor - 1) / threadsPerCore);
    thread = (processor - 1) % threadsPerCore;
  } else {
    coreId = last;
    thread = processor - firstOfLastCore + 1;
  }
  let stride = 1;
  while (stride < threadsPerCore) stride *= 2;
  stride = Math.max(stride, 4);
  return { processor, coreId, thread, apicid: coreId * stride + thread };
}

function count(n: unknown, fallback: number, max: number): number {
  const v = Math.floor(Number(n));
  if (!Number.isFinite(v) || v < 1) return fallback;
  return Math.min(v, max);
}

function positive(n: unknown, fallback: number): number {
  const v = Number(n);
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

/** The whole /proc/cpuinfo text ('\n' line ends), one block per logical CPU. */
export function cpuinfoText(cpu: Partial<CpuDescription> = X100_DEFAULT_CPU): string {
  const cores = count(cpu.cores, X100_DEFAULT_CPU.cores, 1024);
  const threads = count(cpu.threadsPerCore, X100_DEFAULT_CPU.threadsPerCore, 16);
  const mhz = positive(cpu.mhz, X100_DEFAULT_CPU.mhz);
  const bogomips = positive(cpu.bogomips, mhz * 2);
  const stepping = steppingNumber(cpu.stepping ?? X100_DEFAULT_CPU.stepping);
  // The text is a pure function of these five: `cat /proc/cpuinfo` builds it once.
  const key = `${cores},${threads},${mhz},${bogomips},${stepping}`;
  const known = cpuinfoCache.get(key);
  if (known !== undefined) return known;
  const siblings = cores * threads;
  const blocks: string[] = [];
  for (let p = 0; p < siblings; p++) {
    const c = knightsCornerCpu(p, cores, threads);
    blocks.push(
      `processor\t: ${p}\n` +
        `vendor_id\t: GenuineIntel\n` +
        `cpu family\t: 11\n` +
        `model\t\t: 1\n` +
        `model name\t: 0b/01\n` +
        `stepping\t: ${stepping}\n` +
        `cpu MHz\t\t: ${mhz.toFixed(3)}\n` +
        `cache size\t: 512 KB\n` +
        `physical id\t: 0\n` +
        `siblings\t: ${siblings}\n` +
        `core id\t\t: ${c.coreId}\n` +
        `cpu cores\t: ${cores}\n` +
        `apicid\t\t: ${c.apicid}\n` +
        `initial apicid\t: ${c.apicid}\n` +
        `fpu\t\t: yes\n` +
        `fpu_exception\t: yes\n` +
        `cpuid level\t: 4\n` +
        `wp\t\t: yes\n` +
        `flags\t\t: ${KNC_CPU_FLAGS}\n` +
        `bogomips\t: ${bogomips.toFixed(2)}\n` +
        `clflush size\t: 64\n` +
        `cache_alignment\t: 64\n` +
        `address sizes\t: 40 bits physical, 48 bits virtual\n` +
        `power management:\n\n`,
    );
  }
  const text = blocks.join('');
  if (cpuinfoCache.size >= 8) cpuinfoCache.clear();
  cpuinfoCache.set(key, text);
  return text;
}

const cpuinfoCache = new Map<string, string>();
