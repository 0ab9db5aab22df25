// The CPU models of `-cpu NAME`: QEMU 7.2's pentium, pentium2, pentium3 and qemu32, as its
// TCG presents them (measured with tests/guests/cpu-probe: CPUID leaves, MSR set, which
// instructions exist), minus the features bmbt-dbg does not implement (none of what
// these models advertise is missing since PSE-36, issue 9; decisions.md). The default is
// pentium2.
import type { Instr } from './instr.js';

export const CPUID_FPU = 1 << 0;
export const CPUID_VME = 1 << 1;
export const CPUID_DE = 1 << 2;
export const CPUID_PSE = 1 << 3;
export const CPUID_TSC = 1 << 4;
export const CPUID_MSR = 1 << 5;
export const CPUID_PAE = 1 << 6;
export const CPUID_MCE = 1 << 7;
export const CPUID_CX8 = 1 << 8;
export const CPUID_APIC = 1 << 9;
export const CPUID_SEP = 1 << 11;
export const CPUID_MTRR = 1 << 12;
export const CPUID_PGE = 1 << 13;
export const CPUID_MCA = 1 << 14;
export const CPUID_CMOV = 1 << 15;
export const CPUID_PAT = 1 << 16;
export const CPUID_PSE36 = 1 << 17;
export const CPUID_MMX = 1 << 23;
export const CPUID_FXSR = 1 << 24;
export const CPUID_SSE = 1 << 25;
export const CPUID_SSE2 = 1 << 26;
/** CPUID.1:ECX */
export const CPUID_EXT_SSE3 = 1 << 0;
export const CPUID_EXT_HYPERVISOR = 1 << 31;

/** What bmbt-dbg implements of CPUID.1:EDX; a model advertises the intersection with QEMU's. */
export const IMPLEMENTED_EDX =
  CPUID_FPU | CPUID_VME | CPUID_DE | CPUID_PSE | CPUID_TSC | CPUID_MSR | CPUID_PAE | CPUID_MCE | CPUID_CX8 | CPUID_APIC |
  CPUID_SEP | CPUID_MTRR | CPUID_PGE | CPUID_MCA | CPUID_CMOV | CPUID_PAT | CPUID_PSE36 | CPUID_MMX | CPUID_FXSR | CPUID_SSE |
  CPUID_SSE2;
/** CPUID.1:ECX: SSE3 and the hypervisor bit (QEMU sets it for every model under TCG). */
export const IMPLEMENTED_ECX = CPUID_EXT_SSE3 | CPUID_EXT_HYPERVISOR;

/** MCG_CAP of QEMU's family-6 models with MCE and MCA: 10 banks, MCG_CTL_P, MCG_SER_P. */
export const MCG_CAP_P6 = 0x0100010an;
export const MCG_CTL_P = 0x100n;

export type CpuidRegs = readonly [number, number, number, number];

export interface CpuModel {
  /** QEMU's -cpu name. */
  readonly name: string;
  /** What `-cpu help` prints after the name (QEMU's model-id, blank for most). */
  readonly description: string;
  /** Highest basic leaf (CPUID.0:EAX). */
  readonly level: number;
  /** Highest extended leaf (CPUID.80000000h:EAX), 0 when the model has none. */
  readonly xlevel: number;
  /** CPUID.1:EAX: family, model, stepping; also EDX after RESET and INIT. */
  readonly signature: number;
  /** CPUID.1:EDX and ECX as QEMU 7.2 presents the model (APIC included). */
  readonly qemuEdx: number;
  readonly qemuEcx: number;
  /** CPUID.1:EDX and ECX as bmbt-dbg advertises them (without APIC: the board adds it). */
  readonly edx: number;
  readonly ecx: number;
  /** Fixed leaves by number (leaf 2, 3, the brand string, 80000001h...). */
  readonly leaves: ReadonlyMap<number, CpuidRegs>;
  /** Leaf 4 (deterministic cache parameters) by subleaf, when the model has it. */
  readonly leaf4?: readonly CpuidRegs[];
  /** IA32_MCG_CAP (0: no machine-check banks). */
  readonly mcgCap: bigint;
  /** Physical address width QEMU gives the model (checks of VM_HSAVE_PA). */
  readonly physBits: number;
}

/** The string "GenuineIntel" as CPUID returns it in EBX, EDX, ECX. */
const GENU = 0x756e6547;
const INEI = 0x49656e69;
const NTEL = 0x6c65746e;
/** Leaf 2 of QEMU's P6-class models (its cache/TLB descriptors). */
const LEAF2_QEMU: CpuidRegs = [0x00000001, 0, 0x0000004d, 0x002c307d];
const ZERO: CpuidRegs = [0, 0, 0, 0];

function str4(s: string, at: number): number {
  let v = 0;
  for (let i = 3; i >= 0; i--) v = (v << 8) | (s.charCodeAt(at + i) || 0);
  return v | 0;
}

/** Leaves 80000002h-80000004h for a brand string (48 bytes, NUL padded). */
function brandLeaves(brand: string): [number, CpuidRegs][] {
  const out: [number, CpuidRegs][] = [];
  for (let l = 0; l < 3; l++) {
    const at = l * 16;
    out.push([0x80000002 + l, [str4(brand, at), str4(brand, at + 4), str4(brand, at + 8), str4(brand, at + 12)]]);
  }
  return out;
}

function model(m: Omit<CpuModel, 'edx' | 'ecx'>): CpuModel {
  return { ...m, edx: m.qemuEdx & IMPLEMENTED_EDX & ~CPUID_APIC, ecx: m.qemuEcx & IMPLEMENTED_ECX };
}

export const CPU_MODELS: readonly CpuModel[] = [
  model({
    name: 'pentium', description: '', level: 1, xlevel: 0, signature: 0x543,
    qemuEdx: 0x008003bd, qemuEcx: CPUID_EXT_HYPERVISOR, leaves: new Map(), mcgCap: 0n, physBits: 32,
  }),
  model({
    name: 'pentium2', description: '', level: 2, xlevel: 0, signature: 0x652,
    qemuEdx: 0x0183fbfd, qemuEcx: CPUID_EXT_HYPERVISOR, leaves: new Map([[2, LEAF2_QEMU]]), mcgCap: MCG_CAP_P6, physBits: 36,
  }),
  model({
    name: 'pentium3', description: '', level: 3, xlevel: 0, signature: 0x673,
    qemuEdx: 0x0383fbfd, qemuEcx: CPUID_EXT_HYPERVISOR, leaves: new Map([[2, LEAF2_QEMU], [3, ZERO]]), mcgCap: MCG_CAP_P6,
    physBits: 36,
  }),
  model({
    name: 'qemu32', description: 'QEMU Virtual CPU version 2.5+', level: 4, xlevel: 0x80000004, signature: 0x663,
    qemuEdx: 0x0781abfd, qemuEcx: CPUID_EXT_HYPERVISOR | CPUID_EXT_SSE3,
    leaves: new Map<number, CpuidRegs>([
      [2, LEAF2_QEMU], [3, ZERO],
      [0x80000000, [0x80000004, GENU, NTEL, INEI]],
      [0x80000001, [0x663, 0, 0, 0]],
      ...brandLeaves('QEMU Virtual CPU version 2.5+'),
    ]),
    leaf4: [
      [0x00000121, 0x01c0003f, 0x0000003f, 0x00000001],
      [0x00000122, 0x01c0003f, 0x0000003f, 0x00000001],
      [0x00000143, 0x03c0003f, 0x00000fff, 0x00000001],
      [0x00000163, 0x03c0003f, 0x00003fff, 0x00000006],
    ],
    mcgCap: 0n, physBits: 32,
  }),
];

/** Our default: a Pentium II, as bmbt-dbg has always been (family 6, model 5, stepping 2). */
export const DEFAULT_CPU_MODEL = 'pentium2';

/** The model called `name` (QEMU's names, with its "-v1" versions), or undefined. */
export function findCpuModel(name: string): CpuModel | undefined {
  const n = name.replace(/-v1$/, '');
  return CPU_MODELS.find((m) => m.name === n);
}

export function defaultCpuModel(): CpuModel {
  return findCpuModel(DEFAULT_CPU_MODEL)!;
}

/** `-cpu help`, in QEMU's layout ("x86 NAME  DESCRIPTION"), our default marked. */
export function cpuModelHelp(): string {
  const lines = ['Available CPUs:'];
  for (const m of CPU_MODELS) {
    const desc = m.name === DEFAULT_CPU_MODEL ? `${m.description}(default)`.trim() : m.description;
    lines.push(`x86 ${m.name.padEnd(22)}${desc ? ' ' + desc : ''}`.trimEnd());
  }
  return lines.join('\n') + '\n';
}

/**
 * CPUID as QEMU 7.2 answers it for `m`: 40000000h is TCG's hypervisor leaf; a leaf above
 * the highest extended (or basic) leaf returns the highest basic leaf, with the subleaf
 * passed on (Intel's rule, as QEMU). `edx1` is CPUID.1:EDX as the board presents it
 * (the APIC bit comes and goes with IA32_APIC_BASE).
 */
export function modelCpuid(m: CpuModel, edx1: number, eax: number, ecx: number, ebx1 = 0x800): CpuidRegs {
  let leaf = eax >>> 0;
  if (leaf === 0x40000000) return [0x40000001, 0x54474354, 0x43544743, 0x47435447]; // "TCGTCGTCGTCG"
  if (leaf === 0x40000001) return ZERO;
  if (leaf >= 0x80000000 ? m.xlevel === 0 || leaf > m.xlevel : leaf > m.level) leaf = m.level;
  if (leaf === 0) return [m.level, GENU, NTEL, INEI];
  if (leaf === 1) return [m.signature, ebx1, m.ecx, edx1];
  if (leaf === 4 && m.leaf4) return m.leaf4[ecx >>> 0] ?? ZERO;
  return m.leaves.get(leaf) ?? ZERO;
}

/**
 * The SIMD instructions QEMU 7.2 refuses by CPUID (measured with tests/guests/simd
 * "models"): the fences, MOVNTI and CLFLUSH. The others need only what CR0/CR4 say (XMM
 * forms need CR4.OSFXSR, which a model without SSE cannot set): MMX runs on every model,
 * SSE2 on pentium3 (decisions.md).
 */
const CPUID_CHECKED = new Set(['sfence', 'lfence', 'mfence', 'movnti', 'clflush']);

const X87_CMOV_FORMS = (i: Instr): boolean => {
  if (i.mnem !== 'x87' || i.modrm < 0xc0) return false;
  const op = i.opcode;
  if (op === 0xda || op === 0xdb) return i.modrm < 0xe0 || (op === 0xdb && i.modrm >= 0xe8 && i.modrm < 0xf8);
  return op === 0xdf && i.modrm >= 0xe8 && i.modrm < 0xf8;
};

/**
 * Whether the instruction is undefined on a CPU with CPUID.1:EDX = `edx` (QEMU raises #UD
 * for these when the model lacks the feature): CMOVcc, FCMOVcc and FCOMI/FUCOMI(P) need
 * CMOV; FXSAVE/FXRSTOR need FXSR. Checked at translation time (the model never changes).
 */
export function absentOnModel(edx: number, i: Instr, ecx = 0): boolean {
  if (i.feat & ~edx && CPUID_CHECKED.has(i.mnem)) return true;
  if (i.featEcx & ~ecx) return true; // SSE3: QEMU 7.2 checks CPUID.1:ECX (measured)
  if ((edx & (CPUID_CMOV | CPUID_FXSR)) === (CPUID_CMOV | CPUID_FXSR)) return false;
  if (!(edx & CPUID_CMOV) && (i.mnem.startsWith('cmov') || X87_CMOV_FORMS(i))) return true;
  if (!(edx & CPUID_FXSR) && (i.mnem === 'fxsave' || i.mnem === 'fxrstor')) return true;
  return false;
}
