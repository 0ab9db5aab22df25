// The floppy controller, the 8237 DMA controller and -fda, measured against QEMU 7.2 with
// the same guest: tests/guests/disk/fd-probe.asm boots from a 1.44 MB image through
// SeaBIOS, reads and writes sectors through INT 13h (SeaBIOS's floppy driver: FDC
// commands, IRQ 6, ISA DMA channel 2), then asks the FDC (MSR, DIR, VERSION, SENSE
// INTERRUPT, SENSE DRIVE STATUS, DUMPREG) and the 8237 (channel 2's address and count,
// page, status) directly. Serial output and the image afterwards must be QEMU's, and so
// must SeaBIOS's debug log.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { PcMachine } from '../../src/machine/pc-machine.js';
import { MemoryBackend, TrackedImage } from '../../src/block/block-image.js';
import { IoBus } from '../../src/devices/io-bus.js';
import { PhysicalMemory } from '../../src/memory/physical-memory.js';
import { IsaDma } from '../../src/devices/isa-dma.js';
import { QEMU_BINARY, skipWithoutQemu } from '../support/qemu.js';
import { expectSeabiosLogsEqual } from '../support/seabios-log.js';
import { skipWithoutNasm } from '../support/nasm.js';
import { BIOS, ataProbeImage, fdProbeImage, haveBios, runBothOnImage, runOursDrives, runQemuDrives, scratchDir } from '../support/disk-images.js';

const KVMVAPIC = '/usr/share/qemu/kvmvapic.bin';
const VGABIOS = '/usr/share/seabios/vgabios-stdvga.bin';
/** From the guest's first line (SeaBIOS's serial console may print a dot more or less before it, by host timing on QEMU). */
const fromGuest = (serial: string, first: string) => serial.slice(serial.indexOf(first));

describe.skipIf(skipWithoutQemu() || skipWithoutNasm() || !haveBios)('floppy: fd-probe on QEMU and bmbt-dbg', () => {
  it('-drive if=floppy: the same output and the same image', async () => {
    const s = scratchDir('bmbt-fd-');
    try {
      const img = fdProbeImage();
      const { q, b, qImage, bImage: bi } = await runBothOnImage(s.dir, img, (f) => ['-drive', `file=${f},format=raw,if=floppy`]);
      expect(q.code).toBe(1);
      expect(q.serial).toContain('DMA 9400 FFFF 00 04');
      expect(b.code).toBe(1);
      expect(fromGuest(b.serial, 'fd-probe dl=')).toBe(fromGuest(q.serial, 'fd-probe dl='));
      expect(Buffer.compare(bi, qImage)).toBe(0);
      expect(Buffer.compare(bi, Buffer.from(img))).not.toBe(0);
    } finally {
      s.done();
    }
  }, 180_000);

  it('-drive if=floppy,readonly=on: the guest\'s INT 13h writes fail as on QEMU, the image is unchanged', async () => {
    const s = scratchDir('bmbt-fd-');
    try {
      const img = fdProbeImage();
      const { q, b, qImage, bImage } = await runBothOnImage(s.dir, img, (f) => ['-drive', `file=${f},format=raw,if=floppy,readonly=on`]);
      expect(q.code).toBe(1);
      expect(b.code).toBe(1);
      // SeaBIOS sees the FDC's "not writable" and returns status 03 (write protected).
      expect(q.serial).toMatch(/WRITE 0300 c /);
      expect(fromGuest(b.serial, 'fd-probe dl=')).toBe(fromGuest(q.serial, 'fd-probe dl='));
      expect(Buffer.compare(qImage, Buffer.from(img))).toBe(0);
      expect(Buffer.compare(bImage, Buffer.from(img))).toBe(0);
    } finally {
      s.done();
    }
  }, 180_000);

  it('-fda with -hda and -boot a: the floppy boots first, as QEMU', async () => {
    const s = scratchDir('bmbt-fd-');
    try {
      for (const side of ['q', 'b']) {
        writeFileSync(join(s.dir, `${side}.fd`), fdProbeImage());
        writeFileSync(join(s.dir, `${side}.hd`), ataProbeImage());
      }
      const args = (side: string) => ['-fda', join(s.dir, `${side}.fd`), '-hda', join(s.dir, `${side}.hd`), '-boot', 'a', '-snapshot'];
      const q = await runQemuDrives(s.dir, args('q'));
      const b = await runOursDrives(s.dir, args('b'));
      expect(q.serial).toContain('fd-probe dl=00');
      expect(fromGuest(b.serial, 'fd-probe dl=')).toBe(fromGuest(q.serial, 'fd-probe dl='));
    } finally {
      s.done();
    }
  }, 180_000);
});

function seabiosLogQemu(dir: string, drive: string[]): Promise<string> {
  const logPath = join(dir, 'debug.log');
  return new Promise((resolve, reject) => {
    const q = spawn(QEMU_BINARY, [
      '-nodefaults', '-vga', 'std', '-bios', BIOS, '-nographic', '-m', '128', '-monitor', 'none', '-serial', 'null',
      '-chardev', `file,id=dbg,path=${logPath}`, '-device', 'isa-debugcon,iobase=0x402,chardev=dbg',
      '-device', 'isa-debug-exit,iobase=0xf4,iosize=4', ...drive,
    ], { stdio: 'ignore' });
    const t = setTimeout(() => q.kill('SIGKILL'), 60_000);
    q.on('error', reject);
    q.on('close', () => {
      clearTimeout(t);
      resolve(existsSync(logPath) ? readFileSync(logPath, 'latin1') : '');
    });
  });
}

describe.skipIf(skipWithoutQemu() || skipWithoutNasm() || !haveBios || !existsSync(KVMVAPIC))('SeaBIOS with a floppy drive', () => {
  it('writes exactly QEMU\'s debug log up to the boot sector', async () => {
    const s = scratchDir('bmbt-fd-');
    try {
      const img = fdProbeImage();
      writeFileSync(join(s.dir, 'q.img'), img);
      const qemu = await seabiosLogQemu(s.dir, ['-drive', `file=${join(s.dir, 'q.img')},format=raw,if=floppy,readonly=on`]);
      let log = '';
      const machine = new PcMachine({
        memoryMiB: 128, bios: readFileSync(BIOS), vgaBios: readFileSync(VGABIOS), kvmvapicRom: readFileSync(KVMVAPIC),
        debugcon: (b) => (log += String.fromCharCode(b)),
        drives: [{ bus: 'floppy', unit: 0, media: 'disk', image: new TrackedImage(new MemoryBackend(img, true)) }],
      });
      for (let i = 0; i < 2000 && !log.includes('Booting from 0000:7c00'); i++) machine.run(5_000_000);
      expect(qemu).toContain('Searching bootorder for: /pci@i0cf8/isa@1/fdc@03f0/floppy@0');
      expectSeabiosLogsEqual(log, qemu, (l) => /floppy|fdc|ps2/i.test(l));
    } finally {
      s.done();
    }
  }, 180_000);
});

describe('the 8237 on its own', () => {
  it('address and count with the flip-flop, terminal count in the status (read clears it), autoinit', () => {
    const io = new IoBus();
    const phys = new PhysicalMemory(1 << 20);
    const ram = phys.allocate('ram', 1 << 20);
    phys.mapDirect(0, 1 << 20, ram, 0, true, true);
    const dma = new IsaDma(io, phys);
    const moved: number[] = [];
    dma.register(1, (pos, size) => {
      moved.push(pos, size);
      dma.writeMemory(1, new Uint8Array(size - pos).fill(0xab), pos);
      return size;
    });
    io.write(0x0c, 0, 1);
    io.write(0x02, 0x00, 1); // channel 1 address 0x3000
    io.write(0x02, 0x30, 1);
    io.write(0x03, 0x0f, 1); // count 0x000f: 16 bytes
    io.write(0x03, 0x00, 1);
    io.write(0x83, 0x01, 1); // page 1
    io.write(0x0b, 0x55, 1); // channel 1: write to memory, autoinit, increment
    dma.holdDreq(1);
    expect(moved).toEqual([]); // masked
    io.write(0x0a, 0x01, 1); // unmask channel 1
    expect(moved).toEqual([0, 16]);
    expect(phys.read8(0x13000)).toBe(0xab);
    expect(phys.read8(0x1300f)).toBe(0xab);
    expect(phys.read8(0x13010)).toBe(0);
    expect(io.read(0x08, 1) & 0x0f).toBe(0x02);
    expect(io.read(0x08, 1) & 0x0f).toBe(0);
    // Autoinit: the address and count are back at their bases.
    io.write(0x0c, 0, 1);
    expect([io.read(0x02, 1), io.read(0x02, 1), io.read(0x03, 1), io.read(0x03, 1)]).toEqual([0x00, 0x30, 0x0f, 0x00]);
    expect(io.read(0x83, 1)).toBe(1);
  });
});
