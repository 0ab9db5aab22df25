// QEMU's kvmvapic device (hw/i386/kvmvapic.c), which its `pc` machine creates with the
// first local APIC under TCG: I/O ports 0x7E-0x7F and the option ROM kvmvapic.bin
// (fw_cfg genroms/kvmvapic.bin, added by the board when a BIOS runs). The ROM and device
// exist to speed up the TPR accesses of 32-bit Windows XP/2003; for other guests what is
// visible is what the ROM's initialisation leaves behind. Measured under QEMU 7.2 with
// tests/guests/board/vapic.c:
//
// - reads: 0x7E gives all ones at every size; 0x7F gives 0xFF to a byte read and 0 to a
//   16- or 32-bit read (an unaligned access is not valid for the device, and QEMU
//   answers invalid accesses with 0); unaligned writes (16/32 bits at 0x7F) do nothing;
// - a 16-bit write is the ROM reporting its initialisation; the value is the offset of
//   the ROM's state block ("kvm aPiC") in the 512-byte block of the writing instruction
//   (CS base + EIP). The first one (after a reset) records where the state is. Each one
//   then maps the ROM's pages as DRAM, read-write, over the PAM routing (so the ROM stays
//   writable after the BIOS write-protects its shadow RAM), taking the ROM's size from
//   its header byte in RAM, and rewrites every "mov eax, 1; vmcall" (or vmmcall) in the
//   ROM to "mov eax, 1; nop; out 0x7E, eax" (TCG has no hypercall). A ROM size of 0 or
//   a block beyond RAM undoes the recorded state and the mapping;
// - an 8-bit write is the ROM asking to be re-activated (after a Windows hibernation):
//   the state block's signature is checked at its virtual address (the physical one plus
//   EIP's top nibble, through the page tables), the ROM's absolute addresses are relocated
//   to that address if it was linked elsewhere (the fixup list in the state block), the
//   first page from 0xFFFFF000 down to 0x80000000 that maps the APIC gives the virtual
//   TPR address, which is written into the state block with the VCPU shift (7);
// - a 32-bit write (the patched hypercall) asks the APIC to re-evaluate its interrupts,
//   which ours never needs (its output is always up to date): no effect.
//
// Left out (docs/decisions.md): what completes the activation, which needs a Windows
// kernel processor control region at FS:0 (its self pointer and CPU number), and the
// report of the guest's TPR accesses that QEMU then uses to patch Windows' code.
import type { IoBus, PortHandler } from './io-bus.js';
import type { Resettable, SavesState } from './device.js';
import type { PageRange } from './pci/pam.js';

export const VAPIC_PORT = 0x7e;

const ROM_BLOCK_SIZE = 512;
const PAGE_SIZE = 4096;
const APIC_DEFAULT_ADDRESS = 0xfee00000;
const VAPIC_CPU_SHIFT = 7;
const STATE_SIGNATURE = 'kvm aPiC';

// The ROM's state block (GuestROMState): signature, then little-endian dwords.
const ST_VADDR = 8;
const ST_FIXUP_START = 12;
const ST_FIXUP_END = 16;
const ST_VCPU_SHIFT = 28;
const ST_REAL_TPR_ADDR = 32;

/** "mov eax, 1" then vmcall (0F 01 C1) or AMD's vmmcall (0F 01 D9). */
const VMCALL = [0xb8, 0x01, 0x00, 0x00, 0x00, 0x0f, 0x01];
const VMCALL_LAST = [0xc1, 0xd9];
/** What replaces the hypercall: nop; out 0x7E, eax. */
const OUTL_PATCH = [0x90, 0xe7, 0x7e];

export interface KvmVapicOptions {
  /** Guest RAM size: the ROM must start below it. */
  ramSize: number;
  /** A byte of RAM itself (not through the PAM routing: the ROM may still be behind PCI). */
  ramRead8(pa: number): number;
  /** Physical memory as the CPU sees it. */
  read8(pa: number): number;
  /** A physical write as the CPU's (translated code there is dropped by the board). */
  write8(pa: number, v: number): void;
  /** Map `range` as DRAM over the legacy routing, replacing the last one (null: none). */
  setRomWritable(range: PageRange | null): void;
  /** The writing instruction's CS base and EIP. */
  csBase(): number;
  eip(): number;
  /** Linear to physical through the page tables, without side effects; null if unmapped. */
  translate(linear: number): number | null;
}

export interface KvmVapicState {
  standby: boolean;
  romStatePaddr: number;
  romSize: number;
  romWritable: PageRange | null;
}

export class KvmVapic implements PortHandler, Resettable, SavesState<KvmVapicState> {
  /** QEMU's VAPIC_STANDBY: the ROM reported itself (ACTIVE needs Windows; see above). */
  private standby = false;
  private romStatePaddr = 0;
  private romSize = 0;
  private romWritable: PageRange | null = null;

  constructor(io: IoBus, private readonly o: KvmVapicOptions) {
    io.register(VAPIC_PORT, 2, this, 'kvmvapic');
  }

  read(port: number, size: number): number {
    if (port !== VAPIC_PORT && size > 1) return 0;
    return size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff;
  }

  write(port: number, value: number, size: number): void {
    if (port !== VAPIC_PORT && size > 1) return;
    if (size === 2) this.romInit(value);
    else if (size === 1) this.reactivate();
  }

  /** The ROM's initialisation report (a 16-bit write). */
  private romInit(offset: number): void {
    if (!this.standby) {
      const block = (this.o.csBase() + this.o.eip()) & ~(ROM_BLOCK_SIZE - 1);
      this.romStatePaddr = (block + offset) >>> 0;
      this.standby = true;
    }
    if (!this.mapRomWritable()) {
      this.standby = false;
      this.romStatePaddr = 0;
      return;
    }
    this.patchHypercalls();
  }

  private mapRomWritable(): boolean {
    const rom = (this.romStatePaddr & ~(ROM_BLOCK_SIZE - 1)) >>> 0;
    this.setRomWritable(null);
    if (rom + 2 >= this.o.ramSize) return false;
    const size = this.o.ramRead8(rom + 2) * ROM_BLOCK_SIZE;
    if (size === 0) return false;
    this.romSize = size;
    // Whole pages (QEMU rounds the mapping so that code can run from it).
    const base = rom & ~(PAGE_SIZE - 1);
    const end = (rom + size + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
    this.setRomWritable({ base, size: end - base });
    return true;
  }

  private setRomWritable(range: PageRange | null): void {
    this.romWritable = range;
    this.o.setRomWritable(range);
  }

  private patchHypercalls(): void {
    const rom = (this.romStatePaddr & ~(ROM_BLOCK_SIZE - 1)) >>> 0;
    const bytes = Array.from({ length: this.romSize }, (_, i) => this.o.read8(rom + i));
    for (let pos = 0; pos < this.romSize - 8; pos++) {
      if (!VMCALL.every((b, k) => bytes[pos + k] === b) || !VMCALL_LAST.includes(bytes[pos + 7]!)) continue;
      OUTL_PATCH.forEach((b, k) => this.o.write8(rom + pos + 5 + k, b));
    }
  }

  /** The ROM's re-activation request (an 8-bit write). */
  private reactivate(): void {
    if (!this.standby || !this.updateRomMapping()) return;
    this.findRealTprAddress();
    // Activation would follow: it needs Windows' processor control region (not modelled).
  }

  /** Relocate the ROM to the virtual address it runs at; false when it is not there. */
  private updateRomMapping(): boolean {
    const vaddr = (this.romStatePaddr + (this.o.eip() & 0xf0000000)) >>> 0;
    if (this.o.translate(vaddr) !== this.romStatePaddr) return false;
    const state = this.romStatePaddr;
    for (let i = 0; i < STATE_SIGNATURE.length; i++) {
      if (this.o.read8(state + i) !== STATE_SIGNATURE.charCodeAt(i)) return false;
    }
    const linked = this.read32(state + ST_VADDR);
    if (vaddr === linked) return true;
    const fixupEnd = this.read32(state + ST_FIXUP_END);
    for (let pos = this.read32(state + ST_FIXUP_START); pos < fixupEnd; pos = (pos + 4) >>> 0) {
      const at = (state + this.read32((state + pos - linked) >>> 0)) >>> 0;
      this.write32(at, this.read32(at) + vaddr - linked);
    }
    return true;
  }

  /** The first page from the top of the kernel half that maps the APIC. */
  private findRealTprAddress(): void {
    for (let lin = 0xfffff000; lin >= 0x80000000; lin -= PAGE_SIZE) {
      if (this.o.translate(lin) !== APIC_DEFAULT_ADDRESS) continue;
      this.write32(this.romStatePaddr + ST_REAL_TPR_ADDR, lin + 0x80);
      this.write32(this.romStatePaddr + ST_VCPU_SHIFT, VAPIC_CPU_SHIFT);
      return;
    }
  }

  private read32(pa: number): number {
    let v = 0;
    for (let i = 3; i >= 0; i--) v = (v << 8) | this.o.read8((pa + i) >>> 0);
    return v >>> 0;
  }

  private write32(pa: number, v: number): void {
    for (let i = 0; i < 4; i++) this.o.write8((pa + i) >>> 0, (v >>> (8 * i)) & 0xff);
  }

  /** QEMU's vapic_reset: the ROM must report again; its writable mapping stays. */
  reset(): void {
    this.standby = false;
    this.romStatePaddr = 0;
  }

  saveState(): KvmVapicState {
    return { standby: this.standby, romStatePaddr: this.romStatePaddr, romSize: this.romSize, romWritable: this.romWritable };
  }

  loadState(s: KvmVapicState): void {
    this.standby = s.standby;
    this.romStatePaddr = s.romStatePaddr >>> 0;
    this.romSize = s.romSize;
    this.setRomWritable(s.romWritable);
  }

  info(): { standby: boolean; romState: number; romSize: number; romWritable: PageRange | null } {
    return { standby: this.standby, romState: this.romStatePaddr, romSize: this.romSize, romWritable: this.romWritable };
  }
}
