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
