// Intel 82441FX (i440FX) PCI and memory controller, function 00:00.0, 8086:1237 rev 02
// (datasheet 290549; QEMU hw/pci-host/i440fx.c). What the guest sees: the type-0 header
// of a host bridge, PAM0-PAM6 (0x59-0x5F) and SMRAM (0x72), which it applies to memory
// through a PamController. Everything else in 0x40-0xFF is plain writable storage, as in
// QEMU (DRAM timing, DRB...). 0x57 holds the RAM size in 8 MiB units (QEMU's
// "coreboot RAM size" byte).
//
// SMRAM: bits 2:0 C_BASE_SEG read as 010 (0xA0000); D_LCK follows the datasheet (it clears
// D_OPEN and freezes D_OPEN, D_LCK, G_SMRAME until reset), which QEMU leaves unimplemented.
import { PciDevice } from './pci-device.js';
import type { PciBus } from './pci-bus.js';
import type { PamController } from './pam.js';
import { PAM_SEGMENT_COUNT } from './pam.js';

export const I440FX_VENDOR = 0x8086;
export const I440FX_DEVICE = 0x1237;
export const I440FX_RAM_SIZE = 0x57;
export const I440FX_PAM = 0x59;
export const I440FX_PAM_SIZE = 7;
export const I440FX_SMRAM = 0x72;

export const SMRAM_C_BASE_SEG = 0x07;
export const SMRAM_G_SMRAME = 0x08;
export const SMRAM_D_LCK = 0x10;
export const SMRAM_D_CLS = 0x20;
export const SMRAM_D_OPEN = 0x40;
const SMRAM_RESET = 0x02;

export interface I440fxOptions {
  pam: PamController;
  /** Guest RAM size in bytes (for register 0x57). */
  ramSize: number;
  /** Slot (default 0, function 0). */
  slot?: number;
}

export interface I440fxInfo {
  pam: number[];
  smram: number;
  smramOpen: boolean;
  smramLocked: boolean;
}

export class I440fx extends PciDevice {
  private readonly pam: PamController;
  private readonly ramSize: number;

  constructor(bus: PciBus, opts: I440fxOptions) {
    super('i440fx', { vendor: I440FX_VENDOR, device: I440FX_DEVICE, revision: 0x02, classCode: 0x060000 });
    this.pam = opts.pam;
    this.ramSize = opts.ramSize;
    bus.attach(this, opts.slot ?? 0, 0);
  }

  /** PAM0-6 and SMRAM as they were before a system reset (null at power-on). */
  private kept: number[] | null = null;
  private poweredOn = false;

  override reset(): void {
    // QEMU's i440FX has no reset handler: a system reset leaves PAM and SMRAM as they were
    // (measured; SeaBIOS relies on it: its shadowed F segment survives, so an S3 wake-up
    // reaches its resume path, and before a reboot it copies the ROM back itself).
    this.kept = this.poweredOn ? [...this.config.subarray(I440FX_PAM, I440FX_PAM + I440FX_PAM_SIZE), this.get8(I440FX_SMRAM)] : null;
    this.poweredOn = true;
    super.reset();
  }

  protected override resetDevice(): void {
    // PAM0 has only bits 5:4 (0xF0000 segment); PAM1-6 two segments each.
    this.wmask[I440FX_PAM] = 0x30;
    for (let i = 1; i < I440FX_PAM_SIZE; i++) this.wmask[I440FX_PAM + i] = 0x33;
    this.wmask[I440FX_SMRAM] = SMRAM_D_OPEN | SMRAM_D_CLS | SMRAM_D_LCK | SMRAM_G_SMRAME;
    this.set8(I440FX_SMRAM, SMRAM_RESET);
    if (this.kept) {
      for (let i = 0; i < I440FX_PAM_SIZE; i++) this.set8(I440FX_PAM + i, this.kept[i]!);
      // D_LCK is the datasheet's (decisions.md 27): a reset clears it.
      this.set8(I440FX_SMRAM, (this.kept[I440FX_PAM_SIZE]! & ~SMRAM_D_LCK & ~SMRAM_C_BASE_SEG) | SMRAM_RESET);
    }
    this.set8(I440FX_RAM_SIZE, Math.min(255, Math.floor(this.ramSize / (8 << 20))));
    this.applyMemory();
  }

  protected override configWritten(off: number, size: number): void {
    const end = off + size;
    if (off <= I440FX_SMRAM && end > I440FX_SMRAM) this.smramWritten();
    if (off < I440FX_PAM + I440FX_PAM_SIZE && end > I440FX_PAM) this.applyMemory();
    else if (off <= I440FX_SMRAM && end > I440FX_SMRAM) this.applyMemory();
  }

  private smramWritten(): void {
    let v = this.get8(I440FX_SMRAM);
    if (v & SMRAM_D_LCK) {
      v &= ~SMRAM_D_OPEN;
      this.wmask[I440FX_SMRAM] = SMRAM_D_CLS;
    }
    this.set8(I440FX_SMRAM, (v & ~SMRAM_C_BASE_SEG) | SMRAM_RESET);
  }

  /** PAM register byte and nibble of segment i (i440fx_update_memory_mappings). */
  private segmentAttr(i: number): number {
    const reg = this.get8(I440FX_PAM + ((i + 1) >> 1));
    return (i & 1 ? reg : reg >> 4) & 3;
  }

  private applyMemory(): void {
    for (let i = 0; i < PAM_SEGMENT_COUNT; i++) this.pam.setPam(i, this.segmentAttr(i));
    this.pam.setSmramOpen((this.get8(I440FX_SMRAM) & SMRAM_D_OPEN) !== 0);
  }

  protected override loadExtra(): void {
    const locked = (this.get8(I440FX_SMRAM) & SMRAM_D_LCK) !== 0;
    this.wmask[I440FX_SMRAM] = locked ? SMRAM_D_CLS : SMRAM_D_OPEN | SMRAM_D_CLS | SMRAM_D_LCK | SMRAM_G_SMRAME;
  }

  deviceInfo(): I440fxInfo {
    const pam: number[] = [];
    for (let i = 0; i < I440FX_PAM_SIZE; i++) pam.push(this.get8(I440FX_PAM + i));
    const smram = this.get8(I440FX_SMRAM);
    return { pam, smram, smramOpen: (smram & SMRAM_D_OPEN) !== 0, smramLocked: (smram & SMRAM_D_LCK) !== 0 };
  }
}
