// Disassembly for displays (iced-x86, loaded on first use: the wasm module costs
// 35-200 ms, which headless runs never pay). Text is Intel syntax, lower case.
import { createRequire } from 'node:module';
import type * as IcedApi from 'iced-x86';

export interface DisasmLine {
  addr: number;
  len: number;
  bytes: number[];
  text: string;
}

let iced: typeof IcedApi | null = null;
let formatter: IcedApi.Formatter | null = null;

function load(): typeof IcedApi {
  if (!iced) {
    const require = createRequire(import.meta.url);
    iced = require('iced-x86') as typeof IcedApi;
    formatter = new iced.Formatter(iced.FormatterSyntax.Intel);
  }
  return iced;
}

/** Decode up to `count` instructions from `bytes`, which start at linear address `addr`. */
export function disassemble(bytes: Uint8Array, addr: number, bitness: 16 | 32, count = Infinity): DisasmLine[] {
  const x = load();
  const dec = new x.Decoder(bitness, bytes, x.DecoderOptions.None);
  dec.ip = BigInt(addr >>> 0);
  const out: DisasmLine[] = [];
  try {
    let off = 0;
    while (dec.canDecode && out.length < count) {
      const insn = dec.decode();
      const len = insn.length;
      const invalid = insn.code === x.Code.INVALID;
      const text = invalid ? '(bad)' : formatter!.format(insn);
      insn.free();
      out.push({ addr: (addr + off) >>> 0, len, bytes: Array.from(bytes.subarray(off, off + len)), text });
      off += len;
      if (invalid && off >= bytes.length) break;
    }
  } finally {
    dec.free();
  }
  return out;
}

export interface AttLine {
  addr: number;
  bytes: number[];
  mnemonic: string;
  operands: string;
}

let gas: IcedApi.Formatter | null = null;

/**
 * AT&T syntax laid out as QEMU's capstone disassembler prints it for -d in_asm: size
 * suffixes, ", " between operands and inside memory operands, small numbers in decimal,
 * far pointers as $SEL:$OFF. The instruction text is iced-x86's, so a few spellings
 * differ from capstone's (decisions.md).
 */
export function disassembleAtt(bytes: Uint8Array, addr: number, bitness: 16 | 32): AttLine[] {
  const x = load();
  if (!gas) {
    gas = new x.Formatter(x.FormatterSyntax.Gas);
    gas.gasShowMnemonicSizeSuffix = true;
    gas.spaceAfterOperandSeparator = true;
    gas.gasSpaceAfterMemoryOperandComma = true;
    gas.uppercaseHex = false;
    gas.branchLeadingZeros = false;
  }
  const dec = new x.Decoder(bitness, bytes, x.DecoderOptions.None);
  dec.ip = BigInt(addr >>> 0);
  const out: AttLine[] = [];
  try {
    let off = 0;
    while (dec.canDecode && off < bytes.length) {
      const insn = dec.decode();
      const len = insn.length;
      let mnemonic: string;
      let operands: string;
      if (insn.code === x.Code.INVALID) {
        mnemonic = '(bad)';
        operands = '';
      } else {
        mnemonic = gas.formatMnemonic(insn);
        const k = insn.opCount > 0 ? insn.op0Kind : -1;
        if (k === x.OpKind.FarBranch16 || k === x.OpKind.FarBranch32) {
          const target = k === x.OpKind.FarBranch16 ? insn.farBranch16 : insn.farBranch32;
          operands = `$0x${insn.farBranchSelector.toString(16)}:$0x${target.toString(16)}`;
        } else operands = gas.formatAllOperands(insn);
      }
      insn.free();
      out.push({ addr: (addr + off) >>> 0, bytes: Array.from(bytes.subarray(off, off + len)), mnemonic, operands });
      off += len;
    }
  } finally {
    dec.free();
  }
  return out;
}
