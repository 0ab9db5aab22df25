// iced-x86 (npm, a wasm build) as a test oracle for the decoder. Every wasm object is freed
// before returning, and what comes back is plain data.
import { createRequire } from 'node:module';
import type * as IcedApi from 'iced-x86';

// iced-x86 is a CommonJS package; require() it rather than rely on ESM interop.
const require = createRequire(import.meta.url);
export const iced = require('iced-x86') as typeof IcedApi;

export type IcedRegClass = 'gpr' | 'seg' | 'cr' | 'dr' | 'st' | 'xmm' | 'mm' | 'other';

export interface IcedReg {
  readonly name: string;
  readonly cls: IcedRegClass;
  /** Number within its class: EAX=0..EDI=7, AL..BL=0..3, AH..BH=4..7, ES=0..GS=5, CRn=n. */
  readonly num: number;
  /** Bytes. */
  readonly size: number;
}

export type IcedOp =
  | { readonly kind: 'reg'; readonly reg: IcedReg }
  /** `size` is the size the immediate is (sign-)extended to; `value` is the raw 64-bit value. */
  | { readonly kind: 'imm'; readonly size: number; readonly value: bigint }
  | { readonly kind: 'near'; readonly size: 2 | 4; readonly target: number }
  | { readonly kind: 'far'; readonly size: 4 | 6; readonly offset: number; readonly selector: number }
  /** The ModRM/moffs memory operand; details in IcedInsn.mem. */
  | { readonly kind: 'mem' }
  /** Implicit string operand: [seg:(E)SI] or ES:[(E)DI]. */
  | { readonly kind: 'str'; readonly which: 'SI' | 'DI'; readonly adsize: 2 | 4 }
  /** Anything else (e.g. MASKMOVQ's [seg:(E)DI], 64-bit forms): named only. */
  | { readonly kind: 'other'; readonly name: string };

export interface IcedMem {
  readonly base: IcedReg | null;
  readonly index: IcedReg | null;
  readonly scale: number;
  /** Displacement as iced stores it (already reduced to the address size), as a u32. */
  readonly disp: number;
  readonly dispSize: number;
  /** Effective segment, ES=0..GS=5. */
  readonly seg: number;
  /** Access size in bytes (0 = unknown/none, e.g. LEA, INVLPG). */
  readonly size: number;
  readonly sizeName: string;
}

export interface IcedInsn {
  /** Decoded as a valid instruction (no decoder error). */
  readonly valid: boolean;
  readonly error: 'none' | 'invalid' | 'nomorebytes';
  readonly len: number;
  readonly code: string;
  /** Lower-case mnemonic, e.g. 'add', 'jae', 'movsb'. */
  readonly mnemonic: string;
  readonly features: readonly string[];
  readonly text: string;
  readonly ops: readonly IcedOp[];
  readonly mem: IcedMem | null;
  /** Segment of the SI string operand (effective), or -1. */
  readonly strSeg: number;
  readonly rep: 'none' | 'rep' | 'repne';
  /** Operand size the instruction's code implies (OpCodeInfo.operandSize: 16/32), 0 = none. */
  readonly opSize: number;
  readonly lock: boolean;
}

const { Decoder, DecoderError, OpKind, Register, RegisterExt, CpuidFeature, Code, Mnemonic, MemorySize, MemorySizeExt } = iced;

function regInfo(r: IcedApi.Register): IcedReg {
  const cls: IcedRegClass = RegisterExt.isGPR(r)
    ? 'gpr'
    : RegisterExt.isSegmentRegister(r)
      ? 'seg'
      : RegisterExt.isCR(r)
        ? 'cr'
        : RegisterExt.isDR(r)
          ? 'dr'
          : RegisterExt.isST(r)
            ? 'st'
            : RegisterExt.isXMM(r)
              ? 'xmm'
              : RegisterExt.isMM(r)
                ? 'mm'
                : 'other';
  // RegisterExt.size() reports 8 for CRn/DRn (the 64-bit view); they are 32-bit here.
  const size = cls === 'cr' || cls === 'dr' ? 4 : RegisterExt.size(r);
  return { name: Register[r] ?? String(r), cls, num: RegisterExt.number(r), size };
}

function segNum(r: IcedApi.Register): number {
  return r === Register.None ? -1 : RegisterExt.number(r);
}

const IMM_SIZE: Partial<Record<IcedApi.OpKind, number>> = {
  [OpKind.Immediate8]: 1,
  [OpKind.Immediate8_2nd]: 1,
  [OpKind.Immediate16]: 2,
  [OpKind.Immediate32]: 4,
  [OpKind.Immediate8to16]: 2,
  [OpKind.Immediate8to32]: 4,
};

/** Decodes one instruction from `bytes` at `ip` with the given bitness and DecoderOptions. */
export function icedDecode(bitness: 16 | 32, options: number, bytes: Uint8Array, ip: number): IcedInsn {
  const dec = new Decoder(bitness, bytes, options);
  dec.ip = BigInt(ip >>> 0);
  const i = dec.decode();
  try {
    const err = dec.lastError;
    const error = err === DecoderError.None ? 'none' : err === DecoderError.NoMoreBytes ? 'nomorebytes' : 'invalid';
    const valid = error === 'none' && !i.isInvalid;
    const ops: IcedOp[] = [];
    let mem: IcedMem | null = null;
    let strSeg = -1;
    if (valid) {
      for (let k = 0; k < i.opCount; k++) {
        const kind = i.opKind(k);
        const immSize = IMM_SIZE[kind];
        if (kind === OpKind.Register) ops.push({ kind: 'reg', reg: regInfo(i.opRegister(k)) });
        else if (immSize !== undefined) ops.push({ kind: 'imm', size: immSize, value: i.immediate(k) });
        else if (kind === OpKind.NearBranch16) ops.push({ kind: 'near', size: 2, target: i.nearBranch16 });
        else if (kind === OpKind.NearBranch32) ops.push({ kind: 'near', size: 4, target: i.nearBranch32 >>> 0 });
        else if (kind === OpKind.FarBranch16)
          ops.push({ kind: 'far', size: 4, offset: i.farBranch16, selector: i.farBranchSelector });
        else if (kind === OpKind.FarBranch32)
          ops.push({ kind: 'far', size: 6, offset: i.farBranch32 >>> 0, selector: i.farBranchSelector });
        else if (kind === OpKind.Memory) {
          ops.push({ kind: 'mem' });
          mem = {
            base: i.memoryBase === Register.None ? null : regInfo(i.memoryBase),
            index: i.memoryIndex === Register.None ? null : regInfo(i.memoryIndex),
            scale: i.memoryIndexScale,
            disp: Number(i.memoryDisplacement & 0xffffffffn),
            dispSize: i.memoryDisplSize,
            seg: segNum(i.memorySegment),
            size: MemorySizeExt.size(i.memorySize),
            sizeName: MemorySize[i.memorySize] ?? String(i.memorySize),
          };
        } else if (kind === OpKind.MemorySegSI || kind === OpKind.MemorySegESI) {
          ops.push({ kind: 'str', which: 'SI', adsize: kind === OpKind.MemorySegSI ? 2 : 4 });
          strSeg = segNum(i.memorySegment);
        } else if (kind === OpKind.MemoryESDI || kind === OpKind.MemoryESEDI) {
          ops.push({ kind: 'str', which: 'DI', adsize: kind === OpKind.MemoryESDI ? 2 : 4 });
        } else ops.push({ kind: 'other', name: OpKind[kind] ?? String(kind) });
      }
    }
    let opSize = 0;
    if (valid) {
      const info = i.opCode;
      opSize = info.operandSize;
      info.free();
    }
    return {
      opSize,
      valid,
      error,
      len: i.length,
      code: Code[i.code] ?? String(i.code),
      mnemonic: (Mnemonic[i.mnemonic] ?? String(i.mnemonic)).toLowerCase(),
      features: valid ? Array.from(i.cpuidFeatures(), (f) => CpuidFeature[f] ?? String(f)) : [],
      text: valid ? i.toString() : '(bad)',
      ops,
      mem,
      strSeg,
      rep: i.hasRepePrefix ? 'rep' : i.hasRepnePrefix ? 'repne' : 'none',
      lock: i.hasLockPrefix,
    };
  } finally {
    i.free();
    dec.free();
  }
}
