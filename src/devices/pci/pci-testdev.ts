// QEMU's "pci-testdev" (hw/misc/pci-testdev.c), 1b36:0005, class ff00, used by
// kvm-unit-tests to time MMIO and port I/O exits. BAR0 is 4 KiB of memory, BAR1 256
// ports. Writing n (< 3) at offset 0 of a BAR starts test n of that space: 0 "no-eventfd",
// 1 "wildcard-eventfd", 2 "datamatch-eventfd". Reading the BAR then shows the test's
// header byte by byte: test, width, pad[2], offset (LE32), data, pad[3], count (LE32),
// name (NUL-terminated). Each write at the header's offset (2048 + test for memory,
// 128 + test for ports) of width 1 (and, except for wildcard, of value 0xFA) counts.
// There are no eventfds here; the counting is what a guest can observe.
import { PciDevice } from './pci-device.js';
import type { PciBus } from './pci-bus.js';

export const PCI_TESTDEV_VENDOR = 0x1b36;
export const PCI_TESTDEV_DEVICE = 0x0005;
const TEST_NAMES = ['no-eventfd', 'wildcard-eventfd', 'datamatch-eventfd'];
const TYPES = ['mmio', 'portio'];
const IOTEST_IOSIZE = 128;
const IOTEST_MEMSIZE = 2048;
const DATAMATCH = 0xfa;
const NOMATCH = 0xce;

interface IoTest {
  header: Uint8Array;
  offset: number;
  matchData: boolean;
  data: number;
}

export class PciTestdev extends PciDevice {
  private readonly tests: IoTest[] = [];
  private current = -1;

  constructor(bus: PciBus, opts: { slot: number; fn?: number }) {
    super('pci-testdev', { vendor: PCI_TESTDEV_VENDOR, device: PCI_TESTDEV_DEVICE, classCode: 0xff0000 });
    for (let i = 0; i < TYPES.length * TEST_NAMES.length; i++) {
      const name = `${TYPES[Math.floor(i / TEST_NAMES.length)]}-${TEST_NAMES[i % TEST_NAMES.length]}`;
      const isMem = i < TEST_NAMES.length;
      const header = new Uint8Array(16 + name.length + 1);
      const offset = (isMem ? IOTEST_MEMSIZE : IOTEST_IOSIZE) + i;
      const matchData = TEST_NAMES[i % TEST_NAMES.length] !== 'wildcard-eventfd';
      const data = matchData ? DATAMATCH : NOMATCH;
      header[0] = i;
      header[1] = 1;
      new DataView(header.buffer).setUint32(4, offset, true);
      header[8] = data;
      header.set(new TextEncoder().encode(name), 16);
      this.tests.push({ header, offset, matchData, data });
    }
    this.defineBar(0, { kind: 'mem', size: IOTEST_MEMSIZE * 2, name: 'pci-testdev-mmio', block: this.block(0) });
    this.defineBar(1, { kind: 'io', size: IOTEST_IOSIZE * 2, name: 'pci-testdev-portio', block: this.block(1) });
    bus.attach(this, opts.slot, opts.fn ?? 0);
  }

  private block(type: number) {
    return {
      read: (off: number, size: number) => {
        let v = 0;
        for (let i = 0; i < size; i++) v |= this.readByte(off + i) << (8 * i);
        return v >>> 0;
      },
      write: (off: number, value: number, size: number) => this.writeAccess(type, off, value, size),
    };
  }

  private readByte(addr: number): number {
    if (this.current < 0) return 0;
    const h = this.tests[this.current]!.header;
    return addr + 1 >= h.length ? 0 : h[addr]!;
  }

  private writeAccess(type: number, addr: number, val: number, size: number): void {
    if (addr === 0) {
      this.current = -1;
      if ((val & 0xff) >= TEST_NAMES.length) return;
      const t = type * TEST_NAMES.length + (val & 0xff);
      new DataView(this.tests[t]!.header.buffer).setUint32(12, 0, true);
      this.current = t;
      return;
    }
    if (this.current < 0) return;
    const test = this.tests[this.current]!;
    if (addr !== test.offset) return;
    if (test.matchData && (size !== 1 || (val & 0xff) !== test.data)) return;
    const dv = new DataView(test.header.buffer);
    dv.setUint32(12, (dv.getUint32(12, true) + 1) >>> 0, true);
  }

  /** The count of the running test (or null). */
  get count(): number | null {
    if (this.current < 0) return null;
    return new DataView(this.tests[this.current]!.header.buffer).getUint32(12, true);
  }

  protected override resetDevice(): void {
    this.current = -1;
  }

  protected override saveExtra(): { current: number; counts: number[] } {
    return { current: this.current, counts: this.tests.map((t) => new DataView(t.header.buffer).getUint32(12, true)) };
  }

  protected override loadExtra(e: unknown): void {
    const s = e as { current: number; counts: number[] } | undefined;
    if (!s) return;
    this.current = s.current;
    this.tests.forEach((t, i) => new DataView(t.header.buffer).setUint32(12, s.counts[i] ?? 0, true));
  }
}
