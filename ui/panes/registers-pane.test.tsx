// The registers pane shows the machine's registers after real guest instructions, with
// the values that changed since the previous stop highlighted: general registers, the
// system page (descriptor tables, debug registers, decoded attributes), the x87 page and
// the SSE page.
import { vi, describe, expect, it } from 'vitest';
vi.hoisted(() => {
  process.env['FORCE_COLOR'] = '1';
});
import { render } from 'ink-testing-library';
import { RegistersPane, changedRegisters, describeSegment } from './registers-pane.js';
import { sampleController, plain, rawController } from '../../tests/support/sample-controller.js';
import { assemble, skipWithoutNasm } from '../../tests/support/nasm.js';
import { formatInfoFloat } from '../../src/debug/x87-view.js';

describe('RegistersPane', () => {
  it('shows general, segment and control registers of the hello sample and highlights what an instruction changed', async () => {
    const { ctl, symbol } = sampleController('hello');
    ctl.addBreakpoint(symbol('main'));
    await ctl.continue();
    const before = ctl.registers();
    // main: lea ecx,[esp+4] changes ECX and EIP only.
    await ctl.stepInstruction(1);
    const after = ctl.registers();
    expect(after.gpr[1]).toBe((before.gpr[4]! + 4) >>> 0);
    const changed = changedRegisters(after, before);
    expect([...changed].sort()).toEqual(['ecx', 'eip']);

    const { lastFrame } = render(<RegistersPane view={{ page: 'general', cur: after, prev: before, running: false }} width={34} height={22} />);
    const frame = lastFrame()!;
    const text = plain(frame);
    expect(text).toContain(`eip 00100b54`);
    expect(text).toContain(`ecx ${after.gpr[1]!.toString(16).padStart(8, '0')}`);
    expect(text).toMatch(/cs 0008 00000000 ffffffff c09b/);
    expect(text).toMatch(/ds 0010 00000000 ffffffff c093/);
    expect(text).toContain('cr0 00000011');
    expect(text).toContain('efer 00000000');
    // Changed values are drawn in bold yellow; unchanged ones are not.
    const esc = (s: string): RegExp => new RegExp(`\\x1b\\[[0-9;]*33m(\\x1b\\[[0-9;]*m)*${s}`);
    expect(frame).toMatch(esc('00100b54'));
    expect(frame).toMatch(esc(after.gpr[1]!.toString(16).padStart(8, '0')));
    expect(frame).not.toMatch(esc(after.gpr[0]!.toString(16).padStart(8, '0')));
  });

  it('decodes EFLAGS and shows the hidden segment state after the guest loaded its own GDT', async () => {
    const { ctl } = sampleController('timer');
    // Run a while: the timer sample enables interrupts (IF) and sleeps in hlt.
    ctl.resume('test');
    await new Promise((r) => setTimeout(r, 50));
    await ctl.pause('test');
    const regs = ctl.registers();
    const { lastFrame } = render(<RegistersPane view={{ page: 'general', cur: regs, prev: null, running: false }} width={34} height={22} />);
    const text = plain(lastFrame());
    const letters = (regs.eflags & 0x200 ? 'I' : '-') + '-' + (regs.eflags & 0x80 ? 'S' : '-') + (regs.eflags & 0x40 ? 'Z' : '-');
    expect(text).toContain(letters);
    expect(text).toContain(`gdt  ${regs.gdtr.base.toString(16).padStart(8, '0')}`);
    expect(text).toContain(`idt  ${regs.idtr.base.toString(16).padStart(8, '0')}`);
  });
});

/** x87 loads of known values (a zero tag, TOP 3) and an armed debug register. */
const X87_GUEST = `
bits 32
org 0x100000
    finit
    fld1
    fldpi
    fld dword [val]
    fild dword [ival]
    fldz
    fchs                    ; -0
    mov eax, 0x100000
    mov dr0, eax
    mov eax, 0x000d0002     ; G0, RW0 = write, LEN0 = 4 bytes
    mov dr7, eax
    times 0x40 - ($ - $$) nop
stop:                       ; 0x100040
    fchs                    ; -0 becomes +0
    cli
    hlt
val:  dd 2.5
ival: dd -7
`;

describe.skipIf(skipWithoutNasm())('RegistersPane: system and x87 pages', () => {
  it('shows ST0-ST7 in decimal with tags, TOP, the control words, and highlights what FCHS changed', async () => {
    const ctl = rawController(assemble(X87_GUEST));
    ctl.addBreakpoint(0x100040);
    await ctl.continue();
    const before = ctl.registers();
    await ctl.stepInstruction(1);
    const after = ctl.registers();
    expect([...changedRegisters(after, before)].sort()).toEqual(['eip', 'fioff', 'st0']);

    const { lastFrame } = render(<RegistersPane view={{ page: 'x87', cur: after, prev: before, running: false }} width={34} height={37} />);
    const frame = lastFrame()!;
    const text = plain(frame);
    expect(text).toContain('x87 FPU');
    expect(text).toContain('fctrl 037f fstat 1800 ftag 007f');
    expect(text).toContain('top 3  C3=0 C2=0 C1=0 C0=0');
    expect(text).toContain('exc -');
    expect(text).toContain('mask IM DM ZM OM UM PM');
    expect(text).toContain('pc extended  rc nearest');
    expect(text).toMatch(/fip 0008:00100040  fop 1e0/);
    expect(text).toMatch(/│st0 zero +0 +│/);
    expect(text).toMatch(/│st1 valid +-7 +│/);
    expect(text).toMatch(/│st2 valid +2\.5 +│/);
    expect(text).toMatch(/│st3 valid +3\.141592653589793239│/);
    expect(text).toMatch(/│st4 valid +1 +│/);
    expect(text).toMatch(/│st5 empty +0 +│/);
    // The raw images below, sign and exponent first.
    expect(text).toContain('st3 4000 c90fdaa22168c235');
    expect(text).toContain('st1 c001 e000000000000000');
    // Only ST0 changed: it is highlighted, ST1 is not.
    const esc = (s: string): RegExp => new RegExp(`\\x1b\\[[0-9;]*33m(\\x1b\\[[0-9;]*m)*${s}`);
    expect(frame).toMatch(esc('zero +0'));
    expect(frame).not.toMatch(esc('valid +-7'));
    // gdb's `info float` layout for the command line: physical registers, => at TOP.
    expect(formatInfoFloat(after.fpu)).toMatch(/=>R3: Zero    0x00000000000000000000 \+0\n/);
    expect(formatInfoFloat(after.fpu)).toMatch(/  R6: Valid   0x4000c90fdaa22168c235 \+3\.141592653589793239\n/);
  });

  it('the system page shows GDTR/IDTR, LDTR/TR, CR0/CR4 and DR0-DR7 decoded, and the segment attributes', async () => {
    const ctl = rawController(assemble(X87_GUEST));
    await ctl.continue();
    const r = ctl.registers();
    const text = plain(render(<RegistersPane view={{ page: 'system', cur: r, prev: null, running: false }} width={34} height={21} />).lastFrame());
    const h8 = (v: number): string => v.toString(16).padStart(8, '0');
    expect(text).toContain('System registers');
    expect(text).toContain(`gdtr ${h8(r.gdtr.base)} limit ${r.gdtr.limit.toString(16).padStart(4, '0')}`);
    expect(text).toContain(`idtr ${h8(r.idtr.base)} limit`);
    expect(text).toMatch(/ldtr 0000 /);
    expect(text).toMatch(/tr   0000 /);
    expect(text).toMatch(new RegExp(`cr0 ${h8(r.cr0)} PE`));
    expect(text).toContain('dr0 00100000 -G write 4');
    expect(text).toContain('dr1 00000000 -- exec 1');
    expect(text).toContain('dr7 000d0402 -'); // bit 10 reads as 1
    // The flat segments enterFlatProtectedMode loads: 32-bit, 4 KiB granular, ring 0.
    expect(describeSegment(r.seg[1]!)).toMatch(/^code XRA? +dpl0 32 4K$/);
    expect(text).toMatch(/│cs code XRA? +dpl0 32 4K/);
    expect(text).toMatch(/│ss data RWA? +dpl0 32 4K/);
  });
});

/** SSE state of known values: a packed single add, MXCSR with round-up and DAZ. */
const SSE_GUEST = `
bits 32
org 0x100000
    mov eax, cr4
    or eax, 0x600           ; OSFXSR, OSXMMEXCPT
    mov cr4, eax
    ldmxcsr [csr]
    movups xmm1, [a]
    movups xmm2, [b]
    times 0x40 - ($ - $$) nop
stop:                       ; 0x100040
    addps xmm1, xmm2
    cli
    hlt
align 16
a:   dd 1.0, 2.5, -3.0, 100.0
b:   dd 0.5, 0.5, 0.25, 0.1
csr: dd 0x5fc0              ; RC up, DAZ, all masked
`;

describe.skipIf(skipWithoutNasm())('RegistersPane: SSE page', () => {
  it('shows MXCSR decoded and XMM0-7 in hex and as singles, and highlights what ADDPS changed', async () => {
    const ctl = rawController(assemble(SSE_GUEST), 0x100000, 'qemu32');
    ctl.addBreakpoint(0x100040);
    await ctl.continue();
    const before = ctl.registers();
    await ctl.stepInstruction(1);
    const after = ctl.registers();
    // 100 + 0.1 is inexact: PE
    expect([...changedRegisters(after, before)].sort()).toEqual(['eip', 'mxcsr', 'xmm1']);
    const frame = render(<RegistersPane view={{ page: 'sse', cur: after, prev: before, running: false }} width={34} height={32} />).lastFrame()!;
    const text = plain(frame);
    expect(text).toContain('SSE');
    expect(text).toContain('mxcsr 00005fe0  rc up');
    expect(text).toContain('exc PE');
    expect(text).toContain('mask IM DM ZM OM UM PM');
    expect(text).toContain('daz 1  ftz 0');
    // 1.5, 3, -2.75, 100.1 rounded up: 42c83334
    expect(text).toContain('xmm1 42c83334c0300000');
    expect(text).toContain('     404000003fc00000');
    expect(text).toMatch(/xmm1 100\.1 -2\.75 3 1\.5/);
    const esc = (s: string): RegExp => new RegExp(`\\x1b\\[[0-9;]*33m(\\x1b\\[[0-9;]*m)*${s}`);
    expect(frame).toMatch(esc('42c83334c0300000'));
    expect(frame).not.toMatch(esc('3e8000003f000000')); // xmm2's high half did not change
  });
});
