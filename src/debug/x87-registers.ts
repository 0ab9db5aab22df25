// The x87 registers by gdb's names (st0-st7, fctrl ... fop), written from gdb's bytes.
// Reads come from the register snapshot like every other register; writes go through the
// FPU's own snapshot/restore, so the tags follow the new contents as FRSTOR would compute
// them. Translated code never specialises on the FPU state, so no TB is invalidated.
import type { Fpu, FpuSnapshot } from '../cpu/fpu/fpu.js';

/** gdb's names for the x87 control registers and the FPU's, with their widths in bits. */
const CONTROL: Record<string, [Exclude<keyof FpuSnapshot, 'st'>, number]> = {
  fctrl: ['fcw', 16], fstat: ['fsw', 16], ftag: ['ftw', 16], fiseg: ['fcs', 16],
  fioff: ['fip', 32], foseg: ['fds', 16], fooff: ['fdp', 32], fop: ['fop', 11],
};

export function isX87Register(name: string): boolean {
  return /^st[0-7]$/.test(name) || name in CONTROL;
}

/** Write one x87 register from gdb's bytes (10 for st0-7, 4 for the others, little-endian). */
export function writeX87Register(fpu: Fpu, name: string, bytes: Uint8Array): boolean {
  const s = fpu.snapshot();
  const st = /^st([0-7])$/.exec(name);
  if (st) {
    if (bytes.length !== 10) return false;
    s.st[Number(st[1])] = Array.from(bytes);
    fpu.loadSnapshot(s);
    return true;
  }
  const field = CONTROL[name];
  if (!field || bytes.length !== 4) return false;
  const [key, bits] = field;
  const v = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true);
  const value = bits === 32 ? v >>> 0 : v & ((1 << bits) - 1);
  if (key === 'fsw') {
    // A new TOP renames the stack, not the physical registers R0-R7: ST(i) is R(TOP+i).
    const oldTop = (s.fsw >> 11) & 7;
    const newTop = (value >> 11) & 7;
    const phys = Array.from({ length: 8 }, (_, p) => s.st[(p - oldTop) & 7]!);
    s.st = Array.from({ length: 8 }, (_, i) => phys[(newTop + i) & 7]!);
  }
  s[key] = value;
  fpu.loadSnapshot(s);
  return true;
}
