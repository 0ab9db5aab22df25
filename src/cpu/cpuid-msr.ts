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

export const BASE_FEATURES = CPUID_PSE | CPUID_TSC | CPUID_MSR | CPUID_PAE | CPUID_CX8 | CPUID_PGE | CPUID_CMOV;

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
      return cpu.features.edx & CPUID_APIC ? BigInt(cpu.apicBase >>> 0) : null;
    default:
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
      if (!(cpu.features.edx & CPUID_APIC)) return false;
      cpu.apicBase = Number(v & 0xfffff900n);
      return true;
    default:
      return cpu.msrHook ? cpu.msrHook.write(msr, v) : false;
  }
}
