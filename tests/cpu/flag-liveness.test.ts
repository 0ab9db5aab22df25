// Flag liveness on its own (issue 11: only tested end to end): an instruction's flag
// result is dead when a later instruction of the TB overwrites all six arithmetic flags
// before anything can observe them; it is live at the end of the TB, before a reader,
// and before anything that may fault (a handler sees EFLAGS).
import { describe, expect, it } from 'vitest';
import { decode } from '../../src/cpu/decoder.js';
import { flagsLiveAfter } from '../../src/cpu/translate/flag-liveness.js';
import type { Instr } from '../../src/cpu/instr.js';

/** Decode a run of 32-bit instructions. */
function instrs(bytes: number[]): Instr[] {
  const out: Instr[] = [];
  let off = 0;
  while (off < bytes.length) {
    const i = decode((k) => bytes[off + k] ?? 0, 0x1000 + off, true);
    out.push(i);
    off += i.len;
  }
  return out;
}

describe('flag liveness', () => {
  it('add then cmp: the add\'s flags are dead, the cmp\'s live at the end of the TB', () => {
    // add eax,ebx; cmp eax,ecx
    expect(flagsLiveAfter(instrs([0x01, 0xd8, 0x39, 0xc8]))).toEqual([false, true]);
  });

  it('a reader between keeps them live: add; adc; sub', () => {
    // add eax,ebx; adc eax,ecx (reads CF); sub eax,edx
    expect(flagsLiveAfter(instrs([0x01, 0xd8, 0x11, 0xc8, 0x29, 0xd0]))).toEqual([true, false, true]);
  });

  it('instructions that ignore the flags pass liveness through: add; mov; xor', () => {
    // add eax,ebx; mov ecx,edx; xor eax,eax
    expect(flagsLiveAfter(instrs([0x01, 0xd8, 0x89, 0xd1, 0x31, 0xc0]))).toEqual([false, false, true]);
    // With lea between: its memory-operand form counts as may-fault (conservative).
    expect(flagsLiveAfter(instrs([0x01, 0xd8, 0x8d, 0x77, 0x04, 0x31, 0xc0]))[0]).toBe(true);
  });

  it('a memory access may fault, and the fault handler sees EFLAGS: add; mov eax,[ebx]; sub', () => {
    // add eax,ebx; mov eax,[ebx]; sub eax,edx
    expect(flagsLiveAfter(instrs([0x01, 0xd8, 0x8b, 0x03, 0x29, 0xd0]))[0]).toBe(true);
  });

  it('inc keeps CF, so it reads the result before it; a shift by 0 writes nothing, by 1 all', () => {
    // add eax,ebx; inc eax; sub eax,edx: inc's own flags are dead (sub), the add's feed inc's CF.
    expect(flagsLiveAfter(instrs([0x01, 0xd8, 0x40, 0x29, 0xd0]))).toEqual([true, false, true]);
    // add eax,ebx; shl eax,0 (flags untouched); ret-free end
    expect(flagsLiveAfter(instrs([0x01, 0xd8, 0xc1, 0xe0, 0x00]))[0]).toBe(true);
    // add eax,ebx; shl eax,1 (all flags)
    expect(flagsLiveAfter(instrs([0x01, 0xd8, 0xd1, 0xe0]))).toEqual([false, true]);
  });

  it('a conditional jump reads them: cmp; jz', () => {
    // cmp eax,ebx; jz +2
    expect(flagsLiveAfter(instrs([0x39, 0xd8, 0x74, 0x02]))).toEqual([true, true]);
  });
});
