// The real gdb sees the x87 unit: values loaded with FLD/FILD show in `info float` and
// `p $stN` with their tags, TOP and the control words, and gdb's writes to ST1 and FCTRL
// reach the FPU (the guest adds what gdb wrote and stores its control word).
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runGdb, skipWithoutGdb, startEmu, type Emu } from './support.js';
import { assemble, skipWithoutNasm } from '../support/nasm.js';

const GUEST = `
bits 32
org 0x100000
    finit
    fld1
    fldpi
    fld dword [val]
    fild dword [ival]
    fldz
    fchs                        ; ST0..ST4 = -0, -7, 2.5, pi, 1
    times 0x40 - ($ - $$) nop
stop1:                          ; 0x100040: gdb looks, then writes ST1 and FCTRL
    fstp st0                    ; pop -0
    faddp st1, st0              ; ST0 = 2.5 + ST1 as gdb left it
    fstp dword [sum]
    fnstcw [cw]
    times 0x60 - ($ - $$) nop
stop2:                          ; 0x100060
    cli
    hlt
val:  dd 2.5
ival: dd -7
    times 0x80 - ($ - $$) db 0
sum:  dd 0                      ; 0x100080
cw:   dw 0                      ; 0x100084
`;

let emu: Emu | null = null;
let dir: string | null = null;
afterEach(async () => {
  await emu?.close();
  emu = null;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = null;
});

describe.skipIf(skipWithoutGdb() || skipWithoutNasm())('gdb and the x87 registers', () => {
  it('info float and p $stN show what FLD loaded; set $st1 and $fctrl change what the guest computes', async () => {
    dir = mkdtempSync(join(tmpdir(), 'bmbt-x87-'));
    const image = join(dir, 'x87.bin');
    writeFileSync(image, assemble(GUEST));
    emu = await startEmu(['--load', `${image}@0x100000`, '--entry', '0x100000']);
    const r = await runGdb(emu.port, [
      'break *0x100040', 'break *0x100060', 'continue',
      'echo ---FLOAT---\\n', 'info float', 'echo ---PRINT---\\n', 'p $st0', 'p $st1', 'p $st2', 'p $st3', 'p $st4', 'p/x $ftag', 'p/x $fstat',
      'info registers st3',
      'echo ---WRITE---\\n', 'set $st1 = 0.5', 'set $fctrl = 0x27f', 'p $st1', 'p/x $fctrl', 'continue',
      'echo ---AFTER---\\n', 'x/fw 0x100080', 'x/hx 0x100084', 'info float',
      // A new TOP renames the stack; the physical registers stay.
      'echo ---TOP---\\n', 'set $fstat = 0x3800', 'p $st0', 'p $st7', 'info float',
    ], { elf: null });
    const part = (name: string, next: string): string => r.out.split(`---${name}---`)[1]!.split(`---${next}---`)[0]!;

    // Physical registers R7..R0, TOP at R3 (five pushes), -0 tagged Zero, the rest Empty.
    const float = part('FLOAT', 'PRINT');
    expect(float).toMatch(/^ {2}R7: Valid {3}0x3fff8000000000000000 \+1\s*$/m);
    expect(float).toMatch(/^ {2}R6: Valid {3}0x4000c90fdaa22168c235 \+3\.141592653589793239\s*$/m);
    expect(float).toMatch(/^ {2}R5: Valid {3}0x4000a000000000000000 \+2\.5\s*$/m);
    expect(float).toMatch(/^ {2}R4: Valid {3}0xc001e000000000000000 -7\s*$/m);
    expect(float).toMatch(/^=>R3: Zero {4}0x80000000000000000000 -0\s*$/m);
    expect(float).toMatch(/^ {2}R2: Empty {3}0x00000000000000000000\s*$/m);
    expect(float).toMatch(/Status Word: +0x1800\s+TOP: 3/);
    expect(float).toMatch(/Control Word: +0x037f +IM DM ZM OM UM PM\s+PC: Extended Precision \(64-bits\)\s+RC: Round to nearest/);
    expect(float).toMatch(/Tag Word: +0x007f/);
    // The last x87 instruction (FCHS, D9 E0) and the last memory operand (FILD [ival]).
    expect(float).toMatch(/Instruction Pointer: 0x08:0x00100015/);
    expect(float).toMatch(/Operand Pointer: +0x10:0x00100066/);
    expect(float).toMatch(/Opcode: +0xd9e0/);

    const print = part('PRINT', 'WRITE');
    expect(print).toMatch(/\$1 = -0\n\$2 = -7\n\$3 = 2\.5\n\$4 = 3\.14159265358979323851\n\$5 = 1\n\$6 = 0x7f\n\$7 = 0x1800\n/);
    expect(print).toMatch(/^st3 +3\.14159265358979323851 +\(raw 0x4000c90fdaa22168c235\)/m);

    expect(part('WRITE', 'AFTER')).toMatch(/\$8 = 0\.5\n\$9 = 0x27f\n/);
    // The guest popped -0, added 2.5 to the 0.5 gdb wrote, and stored the control word gdb set.
    const after = part('AFTER', 'TOP');
    expect(after).toMatch(/0x100080:\s+3\n/);
    expect(after).toMatch(/0x100084:\s+0x027f\n/);
    expect(after).toMatch(/^=>R6: Valid {3}0x4000c90fdaa22168c235 \+3\.141592653589793239\s*$/m);
    expect(after).toMatch(/^ {2}R4: Empty {3}0x3ffe8000000000000000\s*$/m);
    expect(after).toMatch(/Control Word: +0x027f +IM DM ZM OM UM PM\s+PC: Double Precision \(53-bits\)/);
    expect(after).toMatch(/Tag Word: +0x0fff/);

    const top = r.out.split('---TOP---')[1]!;
    expect(top).toMatch(/\$\d+ = 1\n\$\d+ = 3\.14159265358979323851\n/);
    expect(top).toMatch(/^=>R7: Valid {3}0x3fff8000000000000000 \+1\s*$/m);
    expect(top).toMatch(/^ {2}R6: Valid {3}0x4000c90fdaa22168c235 \+3\.141592653589793239\s*$/m);
    expect(top).toMatch(/Status Word: +0x3800\s+TOP: 7/);
  });
});
