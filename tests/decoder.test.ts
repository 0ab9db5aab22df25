// Hand-written decoder cases for the tricky corners (the bulk comparison against iced-x86 is
// in decoder-vs-iced.test.ts).
import { describe, expect, it } from 'vitest';
import { decode } from '../src/cpu/decoder.js';
import { OpKind, SEG_CS, SEG_DS, SEG_ES, SEG_SS, type Instr } from '../src/cpu/instr.js';

/** Decodes hex bytes ("66 8b 00") in 16-bit (default) or 32-bit mode at `eip`. */
function dec(hexBytes: string, code32 = false, eip = 0): Instr {
  const bytes = hexBytes.split(/\s+/).filter((s) => s !== '').map((h) => parseInt(h, 16));
  return decode((off) => bytes[off] ?? 0, eip, code32);
}

function valid(i: Instr): Instr {
  expect(i.invalid, `${i.mnem} should be valid`).toBe(false);
  return i;
}

describe('decoder: 16-bit addressing', () => {
  it('defaults to SS for BP-based forms and DS otherwise', () => {
    expect(valid(dec('8b 02')).ea).toEqual({ base: 5, index: 6, scale: 1, disp: 0, seg: SEG_SS }); // [bp+si]
    expect(dec('8b 03').ea).toEqual({ base: 5, index: 7, scale: 1, disp: 0, seg: SEG_SS }); // [bp+di]
    expect(dec('8b 46 fe').ea).toEqual({ base: 5, index: -1, scale: 1, disp: -2, seg: SEG_SS }); // [bp-2]
    expect(dec('8b 86 00 80').ea).toMatchObject({ base: 5, disp: -0x8000, seg: SEG_SS }); // [bp-8000h]
    expect(dec('8b 00').ea).toEqual({ base: 3, index: 6, scale: 1, disp: 0, seg: SEG_DS }); // [bx+si]
    expect(dec('8b 07').ea).toEqual({ base: 3, index: -1, scale: 1, disp: 0, seg: SEG_DS }); // [bx]
  });

  it('mod 0, r/m 6 is a bare disp16 in DS, not [bp]', () => {
    const i = valid(dec('8b 06 34 12'));
    expect(i.len).toBe(4);
    expect(i.ea).toEqual({ base: -1, index: -1, scale: 1, disp: 0x1234, seg: SEG_DS });
  });

  it('a segment override beats the SS default', () => {
    expect(dec('26 8b 46 00').ea).toMatchObject({ base: 5, seg: SEG_ES });
    expect(dec('2e 8b 02').ea).toMatchObject({ base: 5, index: 6, seg: SEG_CS });
  });

  it('67 switches to 32-bit addressing (and back in 32-bit code)', () => {
    const a = valid(dec('67 8b 44 24 08'));
    expect(a.len).toBe(5);
    expect(a.ea).toEqual({ base: 4, index: -1, scale: 1, disp: 8, seg: SEG_SS }); // [esp+8]
    const b = valid(dec('67 8b 46 08', true));
    expect(b.len).toBe(4);
    expect(b.ea).toEqual({ base: 5, index: -1, scale: 1, disp: 8, seg: SEG_SS }); // [bp+8]
  });
});

describe('decoder: 32-bit addressing', () => {
  it('SIB with no base takes a disp32 and defaults to DS', () => {
    const i = valid(dec('8b 04 8d 78 56 34 12', true)); // mov eax,[ecx*4+12345678h]
    expect(i.len).toBe(7);
    expect(i.ea).toEqual({ base: -1, index: 1, scale: 4, disp: 0x12345678, seg: SEG_DS });
  });

  it('SIB base EBP with mod 1/2 is EBP (SS); index 4 means no index and no scale', () => {
    expect(dec('8b 44 ad 10', true).ea).toEqual({ base: 5, index: 5, scale: 4, disp: 0x10, seg: SEG_SS });
    expect(dec('8b 04 e4', true).ea).toEqual({ base: 4, index: -1, scale: 1, disp: 0, seg: SEG_SS }); // [esp]
    expect(dec('8b 04 e0', true).ea).toEqual({ base: 0, index: -1, scale: 1, disp: 0, seg: SEG_DS }); // [eax]
  });

  it('mod 0, r/m 5 is a bare disp32; displacements are sign-extended', () => {
    expect(dec('8b 05 00 00 00 80', true).ea).toEqual({ base: -1, index: -1, scale: 1, disp: -0x80000000, seg: SEG_DS });
    expect(dec('8b 40 ff', true).ea).toEqual({ base: 0, index: -1, scale: 1, disp: -1, seg: SEG_DS });
  });
});

describe('decoder: immediates and branch targets', () => {
  it('moffs follows the address size, not the operand size', () => {
    const a = valid(dec('67 a1 34 12', true)); // mov eax,[1234h] with a16
    expect(a.len).toBe(4);
    expect(a.operands[1]).toMatchObject({ kind: OpKind.Mem, size: 4 });
    expect(a.ea).toEqual({ base: -1, index: -1, scale: 1, disp: 0x1234, seg: SEG_DS });
    const b = valid(dec('67 a0 78 56 34 12')); // mov al,[12345678h] with a32 in 16-bit code
    expect(b.len).toBe(6);
    expect(b.ea?.disp).toBe(0x12345678);
    const c = valid(dec('64 a3 00 10')); // mov fs:[1000h],ax
    expect(c.ea).toMatchObject({ disp: 0x1000, seg: 4 });
    expect(c.operands[0]).toMatchObject({ kind: OpKind.Mem, size: 2 });
  });

  it('far pointer immediates: offset then selector, offset sized by the operand size', () => {
    const a = valid(dec('9a 78 56 34 12 cd ab', true));
    expect(a.len).toBe(7);
    expect(a.operands[0]).toEqual({ kind: OpKind.FarImm, size: 6, reg: -1, value: 0x12345678, value2: 0xabcd });
    const b = valid(dec('ea 34 12 cd ab'));
    expect(b.len).toBe(5);
    expect(b.operands[0]).toMatchObject({ kind: OpKind.FarImm, size: 4, value: 0x1234, value2: 0xabcd });
    const c = valid(dec('66 ea 78 56 34 12 00 f0'));
    expect(c.len).toBe(8);
    expect(c.operands[0]).toMatchObject({ size: 6, value: 0x12345678, value2: 0xf000 });
  });

  it("ENTER's two immediates", () => {
    const i = valid(dec('c8 34 12 05', true));
    expect(i.len).toBe(4);
    expect(i.operands.map((o) => [o.kind, o.size, o.value])).toEqual([
      [OpKind.Imm, 2, 0x1234],
      [OpKind.Imm, 1, 5],
    ]);
  });

  it('imm8 sign-extended to the operand size', () => {
    expect(dec('83 c0 ff', true).operands[1]).toMatchObject({ size: 4, value: 0xffffffff });
    expect(dec('83 c0 ff').operands[1]).toMatchObject({ size: 2, value: 0xffff });
    expect(dec('6a 80', true).operands[0]).toMatchObject({ size: 4, value: 0xffffff80 });
    expect(dec('66 6a 80').operands[0]).toMatchObject({ size: 4, value: 0xffffff80 });
    expect(dec('c1 e0 ff', true).operands[1]).toMatchObject({ size: 1, value: 0xff }); // shift count: not extended
  });

  it('Jcc targets wrap at 64K in 16-bit operand size', () => {
    expect(dec('74 05', false, 0xfffe).operands[0]).toMatchObject({ kind: OpKind.Rel, size: 2, value: 0x0005 });
    expect(dec('eb f0', false, 0x0001).operands[0]).toMatchObject({ value: 0xfff3 });
    expect(dec('0f 84 00 80', false, 0x9000).operands[0]).toMatchObject({ value: 0x1004 });
    // 32-bit code with a 66 prefix: rel16, target masked to 16 bits.
    const j = dec('66 e9 00 10', true, 0x12340000);
    expect(j.len).toBe(4);
    expect(j.operands[0]).toMatchObject({ size: 2, value: 0x1004 });
    // 32-bit wrap.
    expect(dec('eb 10', true, 0xfffffffe).operands[0]).toMatchObject({ size: 4, value: 0x10 });
    // 16-bit code with 66: rel32 and a 32-bit target.
    expect(dec('66 e8 00 00 01 00', false, 0xfff0).operands[0]).toMatchObject({ size: 4, value: 0x1fff6 });
  });
});

describe('decoder: validity', () => {
  it('group entries with invalid slots still consume their addressing bytes', () => {
    const a = dec('fe 10'); // FE /2
    expect(a.invalid).toBe(true);
    expect(a.len).toBe(2);
    expect(dec('8f 48 10', true)).toMatchObject({ invalid: true, len: 3 }); // 8F /1
    expect(dec('0f ba 00 05', true).invalid).toBe(true); // 0F BA /0
    expect(valid(dec('0f ba 20 05', true)).mnem).toBe('bt'); // 0F BA /4
    expect(dec('c6 c8 00', true).invalid).toBe(true); // C6 /1
    expect(dec('ff 38', true).invalid).toBe(true); // FF /7
    expect(dec('ff d8', true).invalid).toBe(true); // callf with a register operand
    expect(dec('0f 01 c8', true).invalid).toBe(true); // MONITOR: not ours
    expect(valid(dec('0f 01 e0', true)).operands[0]).toMatchObject({ kind: OpKind.Reg, size: 4, reg: 0 }); // smsw eax
  });

  it('LOCK only on lockable instructions with a memory destination', () => {
    expect(valid(dec('f0 01 00', true)).lock).toBe(true); // lock add [eax],eax
    expect(dec('f0 01 c0', true).invalid).toBe(true); // lock add eax,eax
    expect(dec('f0 39 00', true).invalid).toBe(true); // lock cmp
    expect(dec('f0 03 00', true).invalid).toBe(true); // lock add eax,[eax]: memory is the source
    expect(valid(dec('f0 87 00', true)).mnem).toBe('xchg');
    expect(dec('f0 0f a3 00', true).invalid).toBe(true); // lock bt
    expect(valid(dec('f0 0f ab 00', true)).mnem).toBe('bts');
    expect(valid(dec('f0 0f c7 08', true)).mnem).toBe('cmpxchg8b');
    expect(dec('f0 90', true).invalid).toBe(true);
    expect(dec('f0 8b 00', true).invalid).toBe(true); // lock mov
    expect(dec('f0 0f 20 c0', true).invalid).toBe(true); // lock mov eax,cr0 (AMD's CR8 alias: not on Intel)
    expect(dec('f0 a4', true).invalid).toBe(true); // lock movsb
  });

  it('MOV to CS and to segment registers 6/7 are invalid', () => {
    expect(dec('8e c8').invalid).toBe(true); // mov cs,ax
    expect(valid(dec('8e d0')).operands[0]).toMatchObject({ kind: OpKind.Seg, reg: SEG_SS });
    expect(valid(dec('8c c8')).operands[1]).toMatchObject({ kind: OpKind.Seg, reg: SEG_CS });
    expect(dec('8e f0').invalid).toBe(true);
    expect(dec('8c f8').invalid).toBe(true);
  });

  it('MOV from Sreg writes a word to memory, the operand size to a register', () => {
    expect(valid(dec('8c 18', true)).operands[0]).toMatchObject({ kind: OpKind.Mem, size: 2 });
    expect(valid(dec('8c d8', true)).operands[0]).toMatchObject({ kind: OpKind.Reg, size: 4, reg: 0 });
    expect(valid(dec('0f 00 c0', true)).operands[0]).toMatchObject({ kind: OpKind.Reg, size: 4 }); // sldt eax
    expect(valid(dec('0f 00 00', true)).operands[0]).toMatchObject({ kind: OpKind.Mem, size: 2 }); // sldt [eax]
  });

  it('control registers: CR1 and CR5-7 are invalid; mod is ignored', () => {
    expect(dec('0f 20 c8', true).invalid).toBe(true); // cr1
    expect(dec('0f 22 e8', true).invalid).toBe(true); // cr5
    expect(dec('0f 20 f8', true).invalid).toBe(true); // cr7
    const cr4 = valid(dec('0f 22 e0', true));
    expect(cr4.operands).toEqual([
      { kind: OpKind.Cr, size: 4, reg: 4, value: 0, value2: 0 },
      { kind: OpKind.Reg, size: 4, reg: 0, value: 0, value2: 0 },
    ]);
    // mod = 0, r/m = 5 would be a disp32 for a memory operand; for MOV CR it is still EBP.
    const m = valid(dec('0f 20 05 ff ff ff ff', true));
    expect(m.len).toBe(3);
    expect(m.ea).toBeNull();
    expect(m.operands[0]).toMatchObject({ kind: OpKind.Reg, size: 4, reg: 5 });
    expect(valid(dec('0f 21 e8', true)).operands[1]).toMatchObject({ kind: OpKind.Dr, reg: 5 }); // DR5: CR4.DE decides
    expect(valid(dec('66 0f 20 c0')).operands[0]).toMatchObject({ size: 4 }); // 66 is ignored
  });

  it('PUSH/POP FS/GS have no ModRM', () => {
    expect(valid(dec('0f a0 90', true)).len).toBe(2);
    expect(valid(dec('0f a9 90')).len).toBe(2);
  });

  it('UD0/UD1/UD2 are decoded with their operands but invalid', () => {
    expect(dec('0f 0b')).toMatchObject({ mnem: 'ud2', invalid: true, len: 2 });
    const ud1 = dec('0f b9 48 10', true);
    expect(ud1).toMatchObject({ mnem: 'ud1', invalid: true, len: 4 });
    expect(ud1.operands[0]).toMatchObject({ kind: OpKind.Reg, reg: 1 });
    expect(dec('0f ff c0', true)).toMatchObject({ mnem: 'ud0', invalid: true, len: 3 });
  });

  it('hint NOPs 0F 19-1F are NOPs whatever the prefix; 0F 18 and 0F 0D are NOPs in memory forms only (QEMU)', () => {
    expect(valid(dec('0f 1f 44 00 00', true)).len).toBe(5);
    expect(valid(dec('f3 0f 1e fb', true))).toMatchObject({ mnem: 'nop', len: 4 }); // ENDBR32
    expect(valid(dec('66 0f 1f 00', true)).operands[0]).toMatchObject({ kind: OpKind.Mem, size: 2 });
    expect(dec('f0 0f 1f 00', true).invalid).toBe(true);
    expect(valid(dec('0f 18 00', true))).toMatchObject({ mnem: 'nop', len: 3 });
    expect(valid(dec('0f 0d 08', true))).toMatchObject({ mnem: 'nop', len: 3 });
    expect(dec('0f 18 c0', true).invalid).toBe(true);
    expect(dec('0f 0d c0', true).invalid).toBe(true);
  });

  it('x87: undefined register forms are invalid, FISTTP is valid (as QEMU); the memory operand is decoded', () => {
    expect(dec('d9 d1').invalid).toBe(true);
    expect(valid(dec('db 08')).mnem).toBe('x87'); // fisttp
    expect(dec('dd 28').invalid).toBe(true); // DD /5
    expect(valid(dec('d9 e8')).mnem).toBe('x87'); // fld1
    expect(valid(dec('df e0')).operands).toEqual([]); // fnstsw ax
    expect(valid(dec('da c1')).len).toBe(2); // fcmovb (P6)
    const m = valid(dec('dd 06 34 12'));
    expect(m.len).toBe(4);
    expect(m.ea).toEqual({ base: -1, index: -1, scale: 1, disp: 0x1234, seg: SEG_DS });
    expect(dec('f0 d9 00').invalid).toBe(true);
  });

  it('BSWAP follows the operand size', () => {
    expect(valid(dec('0f c9', true)).operands[0]).toMatchObject({ kind: OpKind.Reg, size: 4, reg: 1 });
    expect(valid(dec('66 0f c9', true)).operands[0]).toMatchObject({ size: 2, reg: 1 });
  });

  it('8-bit registers AH..BH are numbers 4-7 with size 1', () => {
    expect(valid(dec('88 e7')).operands).toEqual([
      { kind: OpKind.Reg, size: 1, reg: 7, value: 0, value2: 0 }, // bh
      { kind: OpKind.Reg, size: 1, reg: 4, value: 0, value2: 0 }, // ah
    ]);
  });

  it('the last segment prefix and the last of F2/F3 win', () => {
    expect(valid(dec('26 2e 8b 00', true)).ea?.seg).toBe(SEG_CS);
    expect(valid(dec('f2 f3 a4', true)).rep).toBe(1);
    expect(valid(dec('f3 f2 a4', true)).rep).toBe(2);
  });
});

describe('decoder: 15-byte limit', () => {
  it('accepts exactly 15 bytes and rejects 16', () => {
    const ok = valid(dec('26 '.repeat(14) + '90', true));
    expect(ok.len).toBe(15);
    const long = dec('26 '.repeat(15) + '90', true);
    expect(long).toMatchObject({ mnem: '(toolong)', invalid: true, len: 15 });
    // Prefixes + opcode + ModRM + disp32 + imm32 = 16 bytes.
    const long2 = dec('26 26 26 26 26 26 81 80 00 00 00 00 01 00 00 00', true);
    expect(long2).toMatchObject({ mnem: '(toolong)', invalid: true, len: 15 });
    expect(valid(dec('26 26 26 26 26 81 80 00 00 00 00 01 00 00 00', true)).len).toBe(15);
  });
});
