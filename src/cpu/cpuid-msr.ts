// CPUID and model-specific registers: the processor describes exactly what exists.
// A Pentium II-class part (family 6): features are advertised only when implemented.
import type { Cpu } from './cpu.js';

export const CPUID_FPU = 1 << 0;
export const CPUID_VME = 1 << 1;
export const CPUID_DE = 1 << 2;
export const CPUID_PSE = 1 << 3;
export const CPUID_TSC = 1 << 4;
export const CPUID_MSR = 1 << 5;
export const CPUID_PAE = 1 << 6;
export const CPUID_CX8 = 1 << 8;
export const CPUID_APIC = 1 << 9;
export const CPUID_SEP = 1 << 11;
export const CPUID_MTRR = 1 << 12;
export const CPUID_PGE = 1 << 13;
export const CPUID_CMOV = 1 << 15;
export const CPUID_FXSR = 1 << 24;

/** Family 6, model 5, stepping 2 (a Pentium II). */
export const CPUID_SIGNATURE = 0x652;

export const MSR_TSC = 0x10;
export const MSR_APIC_BASE = 0x1b;

/** Features this CPU implements (the board adds APIC when it has one). */
export interface CpuFeatures {
  edx: number;
}

export const BASE_FEATURES =
  CPUID_FPU | CPUID_VME | CPUID_DE | CPUID_PSE | CPUID_TSC | CPUID_MSR | CPUID_PAE | CPUID_CX8 | CPUID_SEP | CPUID_MTRR | CPUID_PGE | CPUID_CMOV | CPUID_FXSR;

export const MSR_PLATFORM_ID = 0x17;
export const MSR_BIOS_SIGN_ID = 0x8b;
export const MSR_MTRRCAP = 0xfe;
export const MSR_SYSENTER_CS = 0x174;
export const MSR_SYSENTER_ESP = 0x175;
export const MSR_SYSENTER_EIP = 0x176;
export const MSR_MISC_ENABLE = 0x1a0;
export const MSR_MTRR_DEF_TYPE = 0x2ff;

/** MTRRs that are stored and read back: 8 variable pairs, the fixed ranges, the default type. */
function isMtrr(msr: number): boolean {
  return (msr >= 0x200 && msr <= 0x20f) || msr === 0x250 || msr === 0x258 || msr === 0x259 ||
    (msr >= 0x268 && msr <= 0x26f) || msr === MSR_MTRR_DEF_TYPE;
}

/** Bits an MTRR write may set (others reserved: #GP), for 36-bit physical addresses. */
function mtrrWritable(msr: number): bigint {
  if (msr === MSR_MTRR_DEF_TYPE) return 0xc07n;
  if (msr >= 0x200 && msr <= 0x20f) return msr & 1 ? 0xffffff800n : 0xffffff0ffn;
  return 0xffffffffffffffffn;
}

const VENDOR = 'GenuineIntel';

function str4(s: string, at: number): number {
  return (s.charCodeAt(at) | (s.charCodeAt(at + 1) << 8) | (s.charCodeAt(at + 2) << 16) | (s.charCodeAt(at + 3) << 24)) | 0;
}

export function cpuidLeaf(cpu: Cpu, eax: number, _ecx: number): [number, number, number, number] {
  // Leaves above the maximum return the highest basic leaf, as Intel parts do.
  const leaf = eax > 2 ? 2 : eax;
  switch (leaf) {
    case 0:
      return [2, str4(VENDOR, 0), str4(VENDOR, 8), str4(VENDOR, 4)];
    case 1:
      return [CPUID_SIGNATURE, 0, 0, cpu.features.edx | 0];
    default:
      // Cache and TLB descriptors of a Pentium II (SDM vol. 2, CPUID leaf 2).
      return [0x03020101, 0, 0, 0x0c040843];
  }
}

/** RDMSR; null means #GP. */
export function readMsr(cpu: Cpu, msr: number): bigint | null {
  switch (msr) {
    case MSR_TSC:
      return BigInt(Math.floor(cpu.readTsc())) & 0xffffffffffffffffn;
    case MSR_APIC_BASE:
      return cpu.apic ? BigInt(cpu.apic.baseMsr >>> 0) : null;
    case MSR_PLATFORM_ID:
    case MSR_BIOS_SIGN_ID:
      return 0n;
    case MSR_MTRRCAP:
      return 0x508n; // 8 variable ranges, fixed ranges, write-combining
    case MSR_SYSENTER_CS:
      return BigInt(cpu.sysenterCs & 0xffff);
    case MSR_SYSENTER_ESP:
      return BigInt(cpu.sysenterEsp >>> 0);
    case MSR_SYSENTER_EIP:
      return BigInt(cpu.sysenterEip >>> 0);
    case MSR_MISC_ENABLE:
      return cpu.miscEnable;
    default:
      if (isMtrr(msr)) return cpu.mtrr.get(msr) ?? 0n;
      return cpu.msrHook ? cpu.msrHook.read(msr) : null;
  }
}

/** WRMSR; false means #GP. */
export function writeMsr(cpu: Cpu, msr: number, v: bigint): boolean {
  switch (msr) {
    case MSR_TSC:
      cpu.tscOffset = Number(BigInt.asUintN(64, v)) - cpu.tscSource();
      return true;
    case MSR_APIC_BASE:
      if (!cpu.apic) return false;
      if (v & ~0xfffff900n) return false;
      cpu.apic.setBaseMsr(Number(v));
      return true;
    case MSR_BIOS_SIGN_ID:
      return true; // microcode revision probe: writing 0 is how it starts
    case MSR_SYSENTER_CS:
      cpu.sysenterCs = Number(v & 0xffffn);
      return true;
    case MSR_SYSENTER_ESP:
      cpu.sysenterEsp = Number(v & 0xffffffffn) | 0;
      return true;
    case MSR_SYSENTER_EIP:
      cpu.sysenterEip = Number(v & 0xffffffffn) | 0;
      return true;
    case MSR_MISC_ENABLE:
      cpu.miscEnable = v;
      return true;
    default:
      if (isMtrr(msr)) {
        if (v & ~mtrrWritable(msr)) return false;
        cpu.mtrr.set(msr, v);
        return true;
      }
      return cpu.msrHook ? cpu.msrHook.write(msr, v) : false;
  }
}
