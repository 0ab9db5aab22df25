// CPUID and the model-specific registers, as QEMU 7.2's TCG serves them for the CPU models
// of src/cpu/cpu-models.ts (measured with tests/guests/cpu-probe under every model).
//
// QEMU's RDMSR of an MSR it does not know returns 0 and its WRMSR ignores the write: no #GP,
// whatever the index. Only two writes fault: IA32_PKRS with bits 63:32 set and VM_HSAVE_PA
// with bits 11:0 or bits above the model's physical address width set. MSRs that exist
// store what is written, with these exceptions: IA32_SYSENTER_CS keeps 16 bits (ESP and
// EIP 32); MCG_CTL and the MCi_CTL bank registers take only all-zeros or all-ones;
// IA32_MCG_CAP, MTRRcap, the microcode revision, PERF_STATUS and CORE_THREAD_COUNT are
// constants; EFER takes only the bits the model's extended features allow (none here);
// the P6 performance counters and event selects (0xC1, 0xC2, 0x186, 0x187) read 0 and
// ignore writes. MTRRcap reads 0 on models without CPUID.MTRR, but the MTRRs themselves
// are stored on every model.
import type { Cpu } from './cpu.js';
import { CPUID_MTRR, MCG_CTL_P, modelCpuid } from './cpu-models.js';

export {
  CPUID_FPU, CPUID_VME, CPUID_DE, CPUID_PSE, CPUID_TSC, CPUID_MSR, CPUID_PAE, CPUID_MCE, CPUID_CX8, CPUID_APIC, CPUID_SEP,
  CPUID_MTRR, CPUID_PGE, CPUID_MCA, CPUID_CMOV, CPUID_PAT, CPUID_FXSR, CPUID_EXT_HYPERVISOR,
} from './cpu-models.js';

/** The features a CPU advertises in CPUID.1:EDX (the model's, plus APIC from the board). */
export interface CpuFeatures {
  edx: number;
}

export const MSR_TSC = 0x10;
export const MSR_APIC_BASE = 0x1b;
export const MSR_SMI_COUNT = 0x34;
export const MSR_CORE_THREAD_COUNT = 0x35;
export const MSR_BIOS_SIGN_ID = 0x8b;
export const MSR_MTRRCAP = 0xfe;
export const MSR_SYSENTER_CS = 0x174;
export const MSR_SYSENTER_ESP = 0x175;
export const MSR_SYSENTER_EIP = 0x176;
export const MSR_MCG_CAP = 0x179;
export const MSR_MCG_STATUS = 0x17a;
export const MSR_MCG_CTL = 0x17b;
export const MSR_PERF_STATUS = 0x198;
export const MSR_MISC_ENABLE = 0x1a0;
export const MSR_PAT = 0x277;
export const MSR_MTRR_DEF_TYPE = 0x2ff;
export const MSR_MC0_CTL = 0x400;
export const MSR_PKRS = 0x6e1;
export const MSR_BNDCFGS = 0xd90;
export const MSR_EFER = 0xc0000080;
export const MSR_STAR = 0xc0000081;
export const MSR_VM_HSAVE_PA = 0xc0010117;

/** IA32_PAT at RESET: WB, WT, UC-, UC, twice (SDM vol. 3, 11.12.4). */
export const PAT_RESET = 0x0007040600070406n;
/** QEMU's microcode revision for Intel models. */
const UCODE_REV = 0x100000000n;
/** QEMU's IA32_PERF_STATUS. */
const PERF_STATUS = 0x00000400000003e8n;
/** QEMU's CORE_THREAD_COUNT for one core, one thread. */
const CORE_THREAD_COUNT = 0x00010001n;
/** MTRRcap: 8 variable ranges, fixed ranges, write-combining. */
const MTRRCAP = 0x508n;
const ALL_ONES = 0xffffffffffffffffn;

/** The variable pairs, the fixed ranges and the default type. */
function isMtrr(msr: number): boolean {
  return (msr >= 0x200 && msr <= 0x20f) || msr === 0x250 || msr === 0x258 || msr === 0x259 ||
    (msr >= 0x268 && msr <= 0x26f) || msr === MSR_MTRR_DEF_TYPE;
}

/** The MSR state that is not in Cpu fields of its own (TSC offset, SYSENTER). */
export interface MsrStateRecord {
  mtrr: [number, string][];
  miscEnable: string;
  pat: string;
  mcgStatus: string;
  mcgCtl: string;
  mcBanks: string[];
  star: string;
  vmHsave: string;
  pkrs: string;
  bndcfgs: string;
}

export class MsrState {
  readonly mtrr = new Map<number, bigint>();
  miscEnable = 1n; // fast strings enabled
  pat = PAT_RESET;
  mcgStatus = 0n;
  mcgCtl = 0n;
  /** MCi_CTL, MCi_STATUS, MCi_ADDR, MCi_MISC for each bank. */
  mcBanks: bigint[] = [];
  star = 0n;
  vmHsave = 0n;
  pkrs = 0n;
  bndcfgs = 0n;

  /** RESET (and power-on). */
  reset(mcgCap: bigint): void {
    this.mtrr.clear();
    this.miscEnable = 1n;
    this.pat = PAT_RESET;
    this.mcgStatus = 0n;
    this.mcgCtl = mcgCap & MCG_CTL_P ? ALL_ONES : 0n;
    const banks = Number(mcgCap & 0xffn);
    this.mcBanks = Array.from({ length: 4 * banks }, (_, i) => (i % 4 === 0 ? ALL_ONES : 0n));
    this.star = 0n;
    this.vmHsave = 0n;
    this.pkrs = 0n;
    this.bndcfgs = 0n;
  }

  /** For snapshots: every register, 64-bit values as decimal strings (JSON has no bigint). */
  saveState(): MsrStateRecord {
    return {
      mtrr: [...this.mtrr].map(([k, v]) => [k, v.toString()]),
      miscEnable: this.miscEnable.toString(), pat: this.pat.toString(), mcgStatus: this.mcgStatus.toString(),
      mcgCtl: this.mcgCtl.toString(), mcBanks: this.mcBanks.map((v) => v.toString()), star: this.star.toString(),
      vmHsave: this.vmHsave.toString(), pkrs: this.pkrs.toString(), bndcfgs: this.bndcfgs.toString(),
    };
  }

  loadState(s: MsrStateRecord): void {
    this.mtrr.clear();
    for (const [k, v] of s.mtrr) this.mtrr.set(k, BigInt(v));
    this.miscEnable = BigInt(s.miscEnable);
    this.pat = BigInt(s.pat);
    this.mcgStatus = BigInt(s.mcgStatus);
    this.mcgCtl = BigInt(s.mcgCtl);
    this.mcBanks = s.mcBanks.map((v) => BigInt(v));
    this.star = BigInt(s.star);
    this.vmHsave = BigInt(s.vmHsave);
    this.pkrs = BigInt(s.pkrs);
    this.bndcfgs = BigInt(s.bndcfgs);
  }

  /** INIT keeps everything but the MTRRs and BNDCFGS (measured on QEMU 7.2). */
  init(): void {
    this.mtrr.clear();
    this.bndcfgs = 0n;
  }
}

export function cpuidLeaf(cpu: Cpu, eax: number, ecx: number): [number, number, number, number] {
  const r = modelCpuid(cpu.model, cpu.features.edx | 0, eax, ecx, cpu.cpuidEbx1);
  return [r[0] | 0, r[1] | 0, r[2] | 0, r[3] | 0];
}

/** RDMSR; null would mean #GP, which QEMU's rules never give. */
export function readMsr(cpu: Cpu, msr: number): bigint | null {
  const s = cpu.msr;
  switch (msr) {
    case MSR_TSC:
      return BigInt(Math.floor(cpu.readTsc())) & ALL_ONES;
    case MSR_APIC_BASE:
      return cpu.apic ? BigInt(cpu.apic.baseMsr >>> 0) : 0n;
    case MSR_CORE_THREAD_COUNT:
      return CORE_THREAD_COUNT;
    case MSR_BIOS_SIGN_ID:
      return UCODE_REV;
    case MSR_MTRRCAP:
      return cpu.model.qemuEdx & CPUID_MTRR ? MTRRCAP : 0n;
    case MSR_SYSENTER_CS:
      return BigInt(cpu.sysenterCs & 0xffff);
    case MSR_SYSENTER_ESP:
      return BigInt(cpu.sysenterEsp >>> 0);
    case MSR_SYSENTER_EIP:
      return BigInt(cpu.sysenterEip >>> 0);
    case MSR_MCG_CAP:
      return cpu.model.mcgCap;
    case MSR_MCG_STATUS:
      return s.mcgStatus;
    case MSR_MCG_CTL:
      return s.mcgCtl;
    case MSR_PERF_STATUS:
      return PERF_STATUS;
    case MSR_MISC_ENABLE:
      return s.miscEnable;
    case MSR_PAT:
      return s.pat;
    case MSR_PKRS:
      return s.pkrs;
    case MSR_BNDCFGS:
      return s.bndcfgs;
    case MSR_EFER:
      return BigInt(cpu.efer >>> 0);
    case MSR_STAR:
      return s.star;
    case MSR_VM_HSAVE_PA:
      return s.vmHsave;
    default:
      if (isMtrr(msr)) return s.mtrr.get(msr) ?? 0n;
      if (msr >= MSR_MC0_CTL && msr < MSR_MC0_CTL + s.mcBanks.length) return s.mcBanks[msr - MSR_MC0_CTL]!;
      return cpu.msrHook?.read(msr) ?? 0n;
  }
}

/** WRMSR; false means #GP. */
export function writeMsr(cpu: Cpu, msr: number, v: bigint): boolean {
  const s = cpu.msr;
  switch (msr) {
    case MSR_TSC:
      cpu.tscOffset = Number(BigInt.asUintN(64, v)) - cpu.tscSource();
      return true;
    case MSR_APIC_BASE:
      // Reserved bits are ignored, not faulted (QEMU keeps bits 31:12 and the enable bit).
      cpu.apic?.setBaseMsr(Number(v & 0xfffff800n));
      return true;
    case MSR_SYSENTER_CS:
      cpu.sysenterCs = Number(v & 0xffffn);
      return true;
    case MSR_SYSENTER_ESP:
      cpu.sysenterEsp = Number(v & 0xffffffffn) | 0;
      return true;
    case MSR_SYSENTER_EIP:
      cpu.sysenterEip = Number(v & 0xffffffffn) | 0;
      return true;
    case MSR_MCG_STATUS:
      s.mcgStatus = v;
      return true;
    case MSR_MCG_CTL:
      if (cpu.model.mcgCap & MCG_CTL_P && (v === 0n || v === ALL_ONES)) s.mcgCtl = v;
      return true;
    case MSR_MISC_ENABLE:
      s.miscEnable = v;
      return true;
    case MSR_PAT:
      s.pat = v;
      return true;
    case MSR_PKRS:
      if (v >> 32n) return false;
      s.pkrs = v;
      return true;
    case MSR_BNDCFGS:
      s.bndcfgs = v;
      return true;
    case MSR_EFER:
      // Writable EFER bits come from CPUID.80000001h (SCE, LME, NXE...): none on these models.
      return true;
    case MSR_STAR:
      s.star = v;
      return true;
    case MSR_VM_HSAVE_PA:
      if (v & 0xfffn || v >> BigInt(cpu.model.physBits)) return false;
      s.vmHsave = v;
      return true;
    default:
      if (isMtrr(msr)) {
        s.mtrr.set(msr, v);
        return true;
      }
      if (msr >= MSR_MC0_CTL && msr < MSR_MC0_CTL + s.mcBanks.length) {
        const i = msr - MSR_MC0_CTL;
        if (i % 4 !== 0 || v === 0n || v === ALL_ONES) s.mcBanks[i] = v;
        return true;
      }
      cpu.msrHook?.write(msr, v);
      return true;
  }
}
