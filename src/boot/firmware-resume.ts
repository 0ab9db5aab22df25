// What the firmware does when the CPU comes back to the reset vector after an INIT, for a
// board without a BIOS image. Under QEMU the firmware is always there: SeaBIOS, having run
// its POST once, takes the resume path and reads the CMOS shutdown status (register 0x0F,
// cleared as it is read): 05h (after an EOI to both 8259s) and 0Ah jump through the far
// pointer at 40:67, 0Bh IRETs and 0Ch RETFs through the stack 40:67 points at; any other
// status makes it reboot the machine. This module does the same for directly booted guests,
// so a kernel that resets its CPU by INIT (the 286 way back to real mode, MP start-up code)
// sees what it would see under QEMU. The registers are INIT's, with DS = 40h as SeaBIOS
// leaves it; SS:SP, which SeaBIOS points at a stack of its own, is 0000:7C00 here
// (decisions.md).
import type { Cpu } from '../cpu/cpu.js';
import { SEG_CS, SEG_DS, SEG_SS } from '../cpu/instr.js';

/** CMOS register 0Fh: the shutdown status. */
export const CMOS_SHUTDOWN_STATUS = 0x0f;
const BDA_SEG = 0x40;
/** The far pointer (offset, segment) at 40:67. */
const BDA_JUMP = 0x467;
const RESUME_STACK = 0x7c00;

export interface ResumeBoard {
  cpu: Cpu;
  /** CMOS storage (registers 0x0E-0x7F are plain bytes). */
  cmos: Uint8Array;
  read16(pa: number): number;
  /** Port output (the EOIs of status 05h). */
  out8(port: number, value: number): void;
}

/** After cpu.init(): resume as SeaBIOS would, or say that the machine must reboot. */
export function firmwareResume(b: ResumeBoard): 'resumed' | 'reboot' {
  const status = b.cmos[CMOS_SHUTDOWN_STATUS]!;
  b.cmos[CMOS_SHUTDOWN_STATUS] = 0;
  if (status !== 0x05 && status !== 0x0a && status !== 0x0b && status !== 0x0c) return 'reboot';
  const cpu = b.cpu;
  if (status === 0x05) {
    b.out8(0xa0, 0x20);
    b.out8(0x20, 0x20);
  }
  const off = b.read16(BDA_JUMP);
  const seg = b.read16(BDA_JUMP + 2);
  cpu.loadSegmentReal(SEG_DS, BDA_SEG);
  if (status === 0x05 || status === 0x0a) {
    cpu.loadSegmentReal(SEG_SS, 0);
    cpu.regs[4] = RESUME_STACK;
    cpu.loadSegmentReal(SEG_CS, seg);
    cpu.eip = off;
    return 'resumed';
  }
  // 0Bh / 0Ch: SS:SP from 40:67, then IRET (IP, CS, FLAGS) or RETF (IP, CS).
  const base = seg << 4;
  let sp = off;
  const pop = (): number => {
    const v = b.read16((base + sp) >>> 0);
    sp = (sp + 2) & 0xffff;
    return v;
  };
  const ip = pop();
  const cs = pop();
  const flags = status === 0x0b ? pop() : -1;
  cpu.loadSegmentReal(SEG_SS, seg);
  cpu.regs[4] = sp;
  cpu.loadSegmentReal(SEG_CS, cs);
  cpu.eip = ip;
  if (flags >= 0) cpu.setEflags(flags, 0xffff);
  return 'resumed';
}
