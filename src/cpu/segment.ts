// Segment descriptor attribute bits, kept as QEMU keeps them: the descriptor's high
// dword masked to type/S/DPL/P/AVL/D-B/G (SDM vol. 3, 3.4.5).

export const DESC_TYPE_SHIFT = 8;
export const DESC_A = 1 << 8; // accessed
export const DESC_W = 1 << 9; // data: writable
export const DESC_R = 1 << 9; // code: readable
export const DESC_E = 1 << 10; // data: expand-down
export const DESC_C = 1 << 10; // code: conforming
export const DESC_CODE = 1 << 11;
export const DESC_S = 1 << 12; // code/data (not system)
export const DESC_DPL_SHIFT = 13;
export const DESC_P = 1 << 15;
export const DESC_AVL = 1 << 20;
export const DESC_B = 1 << 22; // D/B: 32-bit
export const DESC_G = 1 << 23;
export const DESC_ATTR_MASK = 0x00f0ff00;

export const SEG_LDTR = 6;
export const SEG_TR = 7;
export const SEG_NAMES = ['es', 'cs', 'ss', 'ds', 'fs', 'gs', 'ldtr', 'tr'];

/** How translated code reaches a segment: decided at translation time, part of hflags. */
export const SEGCLASS_FLAT = 0; // base 0, limit 4 GiB, writable: the offset is the linear address
export const SEGCLASS_BASIC = 1; // expand-up, readable and writable: base + offset, limit check
export const SEGCLASS_COMPLEX = 2; // anything else: a helper checks type, expansion and limit

export function descriptorBase(lo: number, hi: number): number {
  return ((lo >>> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000)) >>> 0;
}

export function descriptorLimit(lo: number, hi: number): number {
  const raw = (lo & 0xffff) | (hi & 0xf0000);
  return hi & DESC_G ? ((raw << 12) | 0xfff) >>> 0 : raw;
}

export function describeSegmentFlags(flags: number): string {
  if (!(flags & DESC_P)) return 'not present';
  const dpl = (flags >> DESC_DPL_SHIFT) & 3;
  const parts: string[] = [];
  if (flags & DESC_S) {
    if (flags & DESC_CODE) parts.push(flags & DESC_B ? 'code32' : 'code16', flags & DESC_R ? 'r' : '-', flags & DESC_C ? 'c' : '-');
    else parts.push(flags & DESC_B ? 'data32' : 'data16', flags & DESC_W ? 'w' : '-', flags & DESC_E ? 'e' : '-');
  } else parts.push(`system type ${(flags >> DESC_TYPE_SHIFT) & 15}`);
  parts.push(`dpl${dpl}`);
  if (flags & DESC_G) parts.push('g');
  return parts.join(' ');
}
