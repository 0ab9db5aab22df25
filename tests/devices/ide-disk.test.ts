// ATA hard disks on the PIIX3 IDE channels, measured against QEMU 7.2 with the same guest:
// tests/guests/disk/ata-probe.asm boots from the disk through SeaBIOS and drives the
// primary channel itself (IDENTIFY, PIO reads and writes in LBA28, LBA48 and CHS, READ/
// WRITE MULTIPLE, SET MULTIPLE, SET FEATURES, FLUSH CACHE, errors, the absent slave,
// SRST, bus-master DMA with PRD tables exact, short and long), printing what it sees on
// COM1: the serial output and the image afterwards must be QEMU's. SeaBIOS's own debug
// log (its ATA probe, the CMOS geometry, the boot order) must be QEMU's line for line.
import { describe, expect, it } from 'vitest';
import { chmodSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { PcMachine } from '../../src/machine/pc-machine.js';
import { MemoryBackend, OverlayBackend, TrackedImage } from '../../src/block/block-image.js';
import { IdeChannel, ST_BSY } from '../../src/devices/ide/ide-channel.js';
import { guessGeometry } from '../../src/block/geometry.js';
import { QEMU_BINARY, skipWithoutQemu } from '../support/qemu.js';
import { skipWithoutNasm } from '../support/nasm.js';
import { expectSeabiosLogsEqual } from '../support/seabios-log.js';
import { BIOS, ataProbeImage, cdProbeIso, haveBios, runBothOnImage, runOursDrives, runQemuDrives, scratchDir, skipWithoutXorriso } from '../support/disk-images.js';

/**
 * The guest's output: from its first line on (before it masks the timer, SeaBIOS's serial
 * console may add a dot to "Booting from Hard Disk..." when QEMU's host is slow).
 */
const fromGuest = (serial: string) => serial.slice(serial.indexOf('ata-probe dl='));

const VGABIOS = '/usr/share/seabios/vgabios-stdvga.bin';
const KVMVAPIC = '/usr/share/qemu/kvmvapic.bin';

describe.skipIf(skipWithoutQemu() || skipWithoutNasm() || !haveBios)('ATA hard disk: ata-probe on QEMU and bmbt-dbg', () => {
  it('prints the same and leaves the same image (-drive file=,format=raw,if=ide)', async () => {
    const s = scratchDir('bmbt-ata-');
    try {
      const img = ataProbeImage();
      const { q, b, qImage: qi, bImage: bi } = await runBothOnImage(s.dir, img, (f) => ['-drive', `file=${f},format=raw,if=ide`]);
      expect(q.serial).toContain('done');
      expect(q.code).toBe(1);
      expect(b.code).toBe(1);
      expect(fromGuest(b.serial)).toBe(fromGuest(q.serial));
      expect(Buffer.compare(bi, qi)).toBe(0);
      // The guest wrote LBA 200-207 and 220-221.
      expect(Buffer.compare(bi.subarray(200 * 512, 208 * 512), Buffer.from(img.subarray(200 * 512, 208 * 512)))).not.toBe(0);
    } finally {
      s.done();
    }
  }, 180_000);

  it('-drive file=F,if=ide,media=disk (explicit) is -hda: the same output and image as QEMU', async () => {
    const s = scratchDir('bmbt-ata-');
    try {
      const img = ataProbeImage();
      const { q, b, qImage, bImage } = await runBothOnImage(s.dir, img, (f) => ['-drive', `file=${f},if=ide,media=disk`]);
      expect(q.serial).toContain('ata-probe dl=80');
      expect(b.code).toBe(1);
      expect(fromGuest(b.serial)).toBe(fromGuest(q.serial));
      expect(Buffer.compare(bImage, qImage)).toBe(0);
      expect(Buffer.compare(bImage, Buffer.from(img))).not.toBe(0);
    } finally {
      s.done();
    }
  }, 180_000);

  it('-snapshot: the guest reads back its writes, the file is unchanged', async () => {
    const s = scratchDir('bmbt-ata-');
    try {
      const img = ataProbeImage();
      const { q, b, qImage, bImage } = await runBothOnImage(s.dir, img, (f) => ['-hda', f, '-snapshot']);
      expect(fromGuest(b.serial)).toBe(fromGuest(q.serial));
      expect(b.serial).toContain('READ BACK 58:8F80 58:9080');
      expect(Buffer.compare(bImage, Buffer.from(img))).toBe(0);
      expect(Buffer.compare(qImage, Buffer.from(img))).toBe(0);
    } finally {
      s.done();
    }
  }, 180_000);
});

describe.skipIf(skipWithoutQemu() || skipWithoutNasm() || !haveBios)('-hdb, -hdc, -hdd: four hard disks on QEMU and bmbt-dbg', () => {
  it('SeaBIOS finds the same four disks (ata0-1, ata1-0, ata1-1), and the probe sees the same slave and secondary channel', async () => {
    const s = scratchDir('bmbt-ata-');
    try {
      // Four sizes, so that a disk in the wrong place shows in SeaBIOS's lines.
      const mib = { a: 16, b: 8, c: 32, d: 4 } as const;
      for (const side of ['q', 'b']) {
        writeFileSync(join(s.dir, `${side}a.img`), ataProbeImage());
        for (const d of ['b', 'c', 'd'] as const) writeFileSync(join(s.dir, `${side}${d}.img`), new Uint8Array(mib[d] << 20));
      }
      const args = (side: string) => [
        ...(['a', 'b', 'c', 'd'] as const).flatMap((d) => [`-hd${d}`, join(s.dir, `${side}${d}.img`)]),
        '-chardev', `file,id=dbg,path=${join(s.dir, `${side}.log`)}`, '-device', 'isa-debugcon,iobase=0x402,chardev=dbg',
      ];
      const q = await runQemuDrives(s.dir, args('q'));
      const b = await runOursDrives(s.dir, args('b'));
      expect(q.code).toBe(1);
      expect(b.code).toBe(1);
      // SeaBIOS probes the two channels in threads of their own: their lines are compared as
      // a set, and the address of each drive's structure (allocated in the order the threads
      // got there, which under QEMU follows wall time) is masked.
      const drives = (side: string) => readFileSync(join(s.dir, `${side}.log`), 'latin1').split('\n')
        .filter((l) => /^(ata\d-\d: |Searching bootorder for: .*drive@|drive 0x)/.test(l))
        .map((l) => l.replace(/^drive 0x[0-9a-f]+:/, 'drive 0x…:')).sort();
      const theirs = drives('q');
      expect(theirs).toEqual(expect.arrayContaining([
        'ata0-0: QEMU HARDDISK ATA-7 Hard-Disk (16 MiBytes)', 'ata0-1: QEMU HARDDISK ATA-7 Hard-Disk (8 MiBytes)',
        'ata1-0: QEMU HARDDISK ATA-7 Hard-Disk (32 MiBytes)', 'ata1-1: QEMU HARDDISK ATA-7 Hard-Disk (4 MiBytes)',
        'Searching bootorder for: /pci@i0cf8/*@1,1/drive@1/disk@1',
      ]));
      expect(theirs.filter((l) => l.startsWith('drive 0x'))).toHaveLength(4);
      expect(drives('b')).toEqual(theirs);
      // The probe boots from -hda (DL 0x80), then finds a slave that answers IDENTIFY
      // (DRQ set) and a secondary channel with drives (status 0x50, not the bus's 0x7F/0xFF).
      expect(q.serial).toContain('ata-probe dl=80');
      expect(q.serial).toMatch(/SLAVE 50 50 58 /);
      expect(q.serial).toMatch(/SECONDARY 50 50/);
      expect(fromGuest(b.serial)).toBe(fromGuest(q.serial));
    } finally {
      s.done();
    }
  }, 180_000);
});

/** SeaBIOS's debug log (port 0x402) on QEMU with -nodefaults -vga std and `drive`, until the boot sector runs. */
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

function seabiosLogOurs(image: Uint8Array, bootOrder?: string): string {
  let log = '';
  const machine = new PcMachine({
    memoryMiB: 128, bios: readFileSync(BIOS), vgaBios: readFileSync(VGABIOS), kvmvapicRom: readFileSync(KVMVAPIC),
    debugcon: (b) => (log += String.fromCharCode(b)), vga: true, serialDevice: true, bootOrder,
    drives: [{ bus: 'ide', unit: 0, media: 'disk', image: new TrackedImage(new MemoryBackend(image)) }],
  });
  for (let i = 0; i < 2000; i++) {
    const stop = machine.run(5_000_000);
    if (stop.kind !== 'budget' && stop.kind !== 'idle') break;
  }
  return log;
}

describe.skipIf(skipWithoutQemu() || skipWithoutNasm() || !haveBios || !existsSync(KVMVAPIC))('SeaBIOS with a hard disk', () => {
  it('writes exactly QEMU\'s debug log: the ATA probe, geometry, translation, boot order', async () => {
    const s = scratchDir('bmbt-ata-');
    try {
      const img = ataProbeImage();
      writeFileSync(join(s.dir, 'q.img'), img);
      const qemu = await seabiosLogQemu(s.dir, ['-drive', `file=${join(s.dir, 'q.img')},format=raw,if=ide`]);
      const ours = seabiosLogOurs(img);
      expect(qemu).toContain('ata0-0: QEMU HARDDISK ATA-7 Hard-Disk (16 MiBytes)');
      expect(qemu).toContain('Booting from 0000:7c00');
      const ata = expectSeabiosLogsEqual(ours, qemu, (l) => l.startsWith('ata0-0:') || l.includes('drive@0/disk@0'));
      expect(ata).toHaveLength(2);
    } finally {
      s.done();
    }
  }, 180_000);

  it('a disk with a partition table of 255 heads: LBA translation in the CMOS, as QEMU', async () => {
    const s = scratchDir('bmbt-ata-');
    try {
      const img = ataProbeImage().slice(0, 64 << 20);
      const big = new Uint8Array(600 << 20);
      big.set(img.subarray(0, 16 << 20));
      // One partition from LBA 2048 to the end, CHS fields as fdisk writes them (255/63).
      const e = 0x1be;
      big.set([0x80, 0x20, 0x21, 0x00, 0x83, 0xfe, 0xff, 0xff], e);
      const count = (600 << 11) - 2048;
      big.set([0x00, 0x08, 0x00, 0x00, count & 0xff, (count >> 8) & 0xff, (count >> 16) & 0xff, count >>> 24], e + 8);
      const g = guessGeometry(big.subarray(0, 512), big.length / 512);
      expect(g).toEqual({ cylinders: 1219, heads: 16, sectors: 63, translation: 'large' });
      writeFileSync(join(s.dir, 'q.img'), big);
      const qemu = await seabiosLogQemu(s.dir, ['-drive', `file=${join(s.dir, 'q.img')},format=raw,if=ide`]);
      const ours = seabiosLogOurs(big);
      const line = (l: string) => l.split('\n').find((x) => x.startsWith('drive 0x'))?.replace(/^drive 0x[0-9a-f]+/, 'drive');
      expect(line(qemu)).toContain('translation=large');
      expect(line(ours)).toBe(line(qemu));
    } finally {
      s.done();
    }
  }, 180_000);
});

describe('IDE channel semantics of our own choosing (docs/decisions.md)', () => {
  function channel() {
    const levels: boolean[] = [];
    const image = new TrackedImage(new MemoryBackend(new Uint8Array(1 << 20)));
    const ch = new IdeChannel({ set: (l) => levels.push(l) }, [{ kind: 'hd', image, geometry: guessGeometry(new Uint8Array(512), 2048) }, null], 1);
    ch.reset();
    return { ch, levels, image };
  }

  it('SRST held: both drives busy until it is cleared, then the signature and diagnostic code', () => {
    const { ch } = channel();
    ch.write(2, 0x33, 1);
    ch.writeControl(0x04);
    expect(ch.altStatus() & ST_BSY).toBe(ST_BSY);
    ch.writeControl(0x04);
    expect(ch.altStatus() & ST_BSY).toBe(ST_BSY);
    ch.writeControl(0x00);
    expect(ch.altStatus()).toBe(0x50);
    expect([1, 2, 3, 4, 5, 6].map((r) => ch.read(r, 1))).toEqual([0x01, 0x01, 0x01, 0x00, 0x00, 0xa0]);
  });

  it('FLUSH CACHE reaches the backend: written sectors are flushed by the command, not before (write cache on)', () => {
    const calls: string[] = [];
    class SpyBackend extends MemoryBackend {
      override write(offset: number, data: Uint8Array): void {
        calls.push(`write ${offset / 512}`);
        super.write(offset, data);
      }
      override flush(): void {
        calls.push('flush');
      }
    }
    const image = new TrackedImage(new SpyBackend(new Uint8Array(1 << 20)));
    const ch = new IdeChannel({ set: () => {} }, [{ kind: 'hd', image, geometry: guessGeometry(new Uint8Array(512), 2048) }, null], 1);
    ch.reset();
    // WRITE SECTORS, LBA 9, one sector of 0xA5A5.
    [[6, 0xe0], [2, 1], [3, 9], [4, 0], [5, 0], [7, 0x30]].forEach(([r, v]) => ch.write(r!, v!, 1));
    for (let i = 0; i < 256; i++) ch.write(0, 0xa5a5, 2);
    expect(ch.read(7, 1)).toBe(0x50);
    // The write cache is on after reset (QEMU's default): the sector is in the file, not yet synced.
    expect(calls).toEqual(['write 9']);
    ch.write(7, 0xe7, 1);
    expect(ch.read(7, 1)).toBe(0x50);
    expect(calls).toEqual(['write 9', 'flush']);
    expect(image.stats.flushes).toBe(1);
    // FLUSH CACHE EXT with nothing written since: counted, nothing to sync.
    ch.write(7, 0xea, 1);
    expect(calls).toEqual(['write 9', 'flush']);
    expect(image.stats.flushes).toBe(2);
    // Write cache off (SET FEATURES 0x82): every write is synced at once.
    ch.write(1, 0x82, 1);
    ch.write(7, 0xef, 1);
    [[2, 1], [3, 10], [7, 0x30]].forEach(([r, v]) => ch.write(r!, v!, 1));
    for (let i = 0; i < 256; i++) ch.write(0, 0x5a5a, 2);
    expect(calls).toEqual(['write 9', 'flush', 'write 10', 'flush']);
  });

  it('a snapshot of the image restores the sectors it saw; the backend holds them again', () => {
    const { image } = channel();
    const sector = (v: number) => new Uint8Array(512).fill(v);
    image.write(5, 1, sector(1));
    const saved = image.saveState();
    image.write(5, 1, sector(2));
    image.write(9, 1, sector(3));
    image.loadState(saved);
    const out = new Uint8Array(1024);
    image.read(5, 1, out);
    image.read(9, 1, out, 512);
    expect(out.subarray(0, 512)).toEqual(sector(1));
    expect(out.subarray(512)).toEqual(sector(0));
    expect(image.heldBytes()).toBe(3 * 512); // sector 5 now, sectors 5 and 9 before
  });

  it('-snapshot\'s overlay reads through to the base for sectors it does not hold', () => {
    const base = new MemoryBackend(new Uint8Array(4096).fill(7), true);
    const o = new OverlayBackend(base);
    o.write(1024, new Uint8Array(512).fill(9));
    const out = new Uint8Array(2048);
    o.read(512, out);
    expect([out[0], out[511], out[512], out[1023], out[1024], out[2047]]).toEqual([7, 7, 9, 9, 7, 7]);
    expect(base.bytes[1024]).toBe(7);
  });
});

it.skipIf(skipWithoutQemu())('the QEMU binary is the reference (7.2)', () => {
  expect(QEMU_BINARY).toBeTruthy();
});

/** QEMU (paused) with `drive`: its status and stderr if it ends within 3 s, else 'running' (then killed). */
function qemuOpens(drive: string[]): Promise<{ code: number | null | 'running'; err: string }> {
  return new Promise((resolve) => {
    let err = '';
    let running = false;
    const p = spawn(QEMU_BINARY, ['-S', '-nodefaults', '-display', 'none', '-monitor', 'none', ...drive], { stdio: ['ignore', 'ignore', 'pipe'] });
    p.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const t = setTimeout(() => {
      running = true;
      p.kill('SIGKILL');
    }, 3000);
    p.on('close', (code) => {
      clearTimeout(t);
      resolve({ code: running ? 'running' : code, err });
    });
  });
}

describe('bad drive input: one line, status 2, the image untouched', () => {
  it('a missing image, a directory, an image smaller than a sector, qcow2, an unknown format=', async () => {
    const { runCli } = await import('../support/cli.js');
    const s = scratchDir('bmbt-ata-');
    try {
      const tiny = join(s.dir, 'tiny.img');
      writeFileSync(tiny, new Uint8Array(100).fill(0x5a));
      const qcow = join(s.dir, 'disk.qcow2');
      const qcowBytes = new Uint8Array(4096);
      qcowBytes.set([0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 3]);
      writeFileSync(qcow, qcowBytes);
      const raw = join(s.dir, 'raw.img');
      writeFileSync(raw, new Uint8Array(4096).fill(1));
      const cases: [string[], RegExp][] = [
        [['-hda', join(s.dir, 'missing.img')], /^bmbt-dbg: -hda .*missing\.img: no such file or directory$/],
        [['-hda', s.dir], /^bmbt-dbg: -hda .*: is a directory$/],
        [['-hda', tiny], /^bmbt-dbg: -hda .*tiny\.img: the image is 100 bytes, smaller than one 512-byte sector$/],
        [['-hda', qcow], /^bmbt-dbg: -hda .*disk\.qcow2: this is a qcow2 image, which bmbt-dbg does not read/],
        [['-drive', `file=${raw},format=qcow2`], /^bmbt-dbg: -drive .*raw\.img: qcow2 images are not supported/],
        [['-drive', `file=${raw},format=vmdk`], /^bmbt-dbg: -drive .*raw\.img: unknown format "vmdk" \(only raw\)$/],
        [['-drive', `file=${raw},if=scsi`], /^bmbt-dbg: -drive .*: if=scsi is not supported/],
        [['-hda', raw, '-drive', `file=${raw},index=0`], /^bmbt-dbg: -drive: IDE unit 0 is already used by -hda$/],
        [['-fda', raw], /^bmbt-dbg: floppy .*raw\.img: 4096 bytes is not a floppy size bmbt-dbg knows \(1474560, 2949120 or 737280\)$/],
        [['-drive', `file=${raw},if=ide,readonly=on`], /^bmbt-dbg: -drive .*: an IDE hard disk cannot be read-only/],
        [['-hda', raw, '-boot', 'order=cxd'], /^bmbt-dbg: -boot order=cxd: the boot order is letters of/],
      ];
      for (const [args, want] of cases) {
        const r = await runCli([...args, '-nographic'], { timeoutMs: 30_000 });
        expect({ args, code: r.code }).toEqual({ args, code: 2 });
        const lines = r.stderr.trim().split('\n');
        expect(lines, r.stderr).toHaveLength(1);
        expect(lines[0]).toMatch(want);
      }
      expect(readFileSync(tiny)).toEqual(Buffer.from(new Uint8Array(100).fill(0x5a)));
      expect(readFileSync(qcow)).toEqual(Buffer.from(qcowBytes));
      expect(readFileSync(raw)).toEqual(Buffer.from(new Uint8Array(4096).fill(1)));
    } finally {
      s.done();
    }
  }, 120_000);

  it.skipIf(skipWithoutQemu())('an image in use is refused, both ways: QEMU\'s lock and ours', async () => {
    const { runCli } = await import('../support/cli.js');
    const { startEmu } = await import('../gdb/support.js');
    const s = scratchDir('bmbt-ata-');
    const img = join(s.dir, 'disk.img');
    writeFileSync(img, new Uint8Array(1 << 20));
    const q = spawn(QEMU_BINARY, ['-S', '-nodefaults', '-display', 'none', '-monitor', 'none', '-drive', `file=${img},format=raw,if=ide`], { stdio: 'ignore' });
    try {
      // QEMU holds its lock while it runs.
      let r = { code: 0 as number | null, stderr: '' };
      for (let i = 0; i < 50; i++) {
        await new Promise((res) => setTimeout(res, 100));
        r = await runCli(['-hda', img, '-nographic', '--max-insns', '1'], { timeoutMs: 30_000 });
        if (r.code === 2) break;
      }
      expect(r.code).toBe(2);
      expect(r.stderr.trim()).toMatch(/^bmbt-dbg: -hda .*disk\.img: the image is in use by another process \(QEMU or bmbt-dbg holds its lock\)$/);
    } finally {
      q.kill('SIGKILL');
      await new Promise((res) => q.once('close', res));
    }
    // Ours, seen by another bmbt-dbg and by QEMU.
    // The holder waits for gdb (paused before the first instruction): it writes nothing.
    const bytes = new Uint8Array(1 << 20).map((_, i) => (i * 13) & 0xff);
    writeFileSync(img, bytes);
    const emu = await startEmu(['-hda', img, '-nographic']);
    try {
      await new Promise((res) => setTimeout(res, 500));
      // Readers too (QEMU's -snapshot and -cdrom are refused under a writer: they share no writes).
      for (const args of [['-hda', img], ['-drive', `file=${img},format=raw,if=ide`], ['-snapshot', '-hda', img], ['-cdrom', img]]) {
        const r = await runCli([...args, '-nographic'], { timeoutMs: 30_000 });
        expect({ args, code: r.code }).toEqual({ args, code: 2 });
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
        expect(r.stderr.trim()).toMatch(/^bmbt-dbg: (-hda|-drive|-cdrom) .*disk\.img: the image is in use by another process \(QEMU or bmbt-dbg holds its lock\)$/);
        expect(Buffer.compare(readFileSync(img), Buffer.from(bytes))).toBe(0);
      }
      for (const args of [['-drive', `file=${img},format=raw,if=ide`], ['-snapshot', '-hda', img], ['-cdrom', img]]) {
        const theirs = await qemuOpens(args);
        expect({ args, code: theirs.code }).toEqual({ args, code: 1 });
        expect(theirs.err).toMatch(/Failed to get (shared )?"write" lock/);
      }
    } finally {
      await emu.close();
    }
    // Ours as a reader (-cdrom): other readers are welcome, writers are not, on both sides.
    const reader = await startEmu(['-cdrom', img, '-nographic']);
    try {
      await new Promise((res) => setTimeout(res, 500));
      const w = await runCli(['-hda', img, '-nographic'], { timeoutMs: 30_000 });
      expect(w.code).toBe(2);
      expect(w.stderr.trim()).toMatch(/^bmbt-dbg: -hda .*disk\.img: the image is in use by another process/);
      expect((await qemuOpens(['-drive', `file=${img},format=raw,if=ide`])).err).toMatch(/Failed to get "write" lock/);
      const r = await runCli(['-snapshot', '-hda', img, '-nographic', '--max-insns', '1000'], { timeoutMs: 30_000 });
      expect(r.stderr).not.toMatch(/in use/);
      expect(r.code).toBe(124);
      expect((await qemuOpens(['-cdrom', img])).code).toBe('running');
    } finally {
      await reader.close();
    }
    try {
      expect(Buffer.compare(readFileSync(img), Buffer.from(bytes))).toBe(0);
    } finally {
      s.done();
    }
  }, 120_000);

  it('SIGTERM and SIGINT: the images are flushed and closed, the lock let go, the status is the signal\'s', async () => {
    const { runCli } = await import('../support/cli.js');
    const { startEmu } = await import('../gdb/support.js');
    const s = scratchDir('bmbt-ata-');
    const img = join(s.dir, 'disk.img');
    writeFileSync(img, new Uint8Array(1 << 20));
    try {
      for (const [sig, status] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
        const emu = await startEmu(['-hda', img, '-nographic']);
        await new Promise((res) => setTimeout(res, 300));
        emu.proc.kill(sig);
        expect(await emu.exited).toBe(status);
        // The lock went with the process: the image opens again at once.
        const r = await runCli(['-hda', img, '-nographic', '--max-insns', '1000'], { timeoutMs: 30_000 });
        expect(r.stderr).not.toMatch(/in use/);
        expect(r.code).toBe(124);
      }
    } finally {
      s.done();
    }
  }, 120_000);
});

/**
 * A boot sector that writes 4 sectors (LBA 9-12: byte i is (i ^ 0x5A) + i / 256) with
 * INT 13h, says so on COM1 and spins with interrupts on: the run ends only by a signal.
 * SeaBIOS leaves the write cache on and sends no FLUSH CACHE, so the sectors are synced
 * only by what the emulator does when it is ended.
 */
const WRITE_AND_SPIN = `
bits 16
org 0x7c00
  cli
  xor ax, ax
  mov ds, ax
  mov es, ax
  mov ss, ax
  mov sp, 0x7c00
  sti
  mov [drive], dl
  mov di, 0x8000
  xor cx, cx
fill:
  mov al, cl
  xor al, 0x5a
  add al, ch
  stosb
  inc cx
  cmp cx, 2048
  jne fill
  mov ax, 0x0304        ; write 4 sectors
  mov cx, 0x000a        ; cylinder 0, sector 10 (LBA 9)
  xor dh, dh
  mov dl, [drive]
  mov bx, 0x8000
  int 13h
  mov si, ok
  jnc puts
  mov si, bad
puts:
  lodsb
  test al, al
  jz spin
  mov dx, 0x3f8
  out dx, al
  jmp puts
spin:
  jmp spin
drive: db 0
ok: db 'bmbt-written', 13, 10, 0
bad: db 'bmbt-write-failed', 13, 10, 0
times 510 - ($ - $$) db 0
dw 0xaa55
`;

/** Run `cmd args` until its COM1 file shows `marker`, then send `sig`; its exit status. */
async function runUntilThenSignal(cmd: string, args: string[], serialPath: string, marker: string, sig: NodeJS.Signals): Promise<{ code: number | null; serial: string }> {
  writeFileSync(serialPath, '');
  const p = spawn(cmd, args, { stdio: 'ignore' });
  const exited = new Promise<number | null>((res) => p.once('exit', (code) => res(code)));
  const serial = (): string => readFileSync(serialPath, 'latin1');
  try {
    for (let i = 0; i < 600 && !serial().includes(marker); i++) await new Promise((res) => setTimeout(res, 100));
    p.kill(sig);
    return { code: await exited, serial: serial() };
  } finally {
    p.kill('SIGKILL');
  }
}

describe.skipIf(skipWithoutQemu() || skipWithoutNasm() || !haveBios)('a guest\'s writes survive SIGTERM and SIGINT', () => {
  it('INT 13h writes, then the signal: the sectors are in the image file, as QEMU leaves it', async () => {
    const { assemble } = await import('../support/nasm.js');
    const { BIN } = await import('../support/cli.js');
    const s = scratchDir('bmbt-ata-');
    try {
      const img = new Uint8Array(1 << 20);
      img.set(assemble(WRITE_AND_SPIN));
      const board = (side: string) => ['-nodefaults', '-vga', 'std', '-nographic', '-m', '128', '-monitor', 'none',
        '-serial', `file:${join(s.dir, `${side}.serial`)}`, '-hda', join(s.dir, `${side}.img`)];
      const want = new Uint8Array(2048).map((_, i) => ((i ^ 0x5a) + (i >> 8)) & 0xff);
      for (const [sig, status] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
        writeFileSync(join(s.dir, 'q.img'), img);
        writeFileSync(join(s.dir, 'b.img'), img);
        const q = await runUntilThenSignal(QEMU_BINARY, ['-bios', BIOS, ...board('q')], join(s.dir, 'q.serial'), 'bmbt-written', sig);
        const b = await runUntilThenSignal(process.execPath, [BIN, ...board('b')], join(s.dir, 'b.serial'), 'bmbt-written', sig);
        expect(q.serial).toContain('bmbt-written');
        expect(b.serial).toContain('bmbt-written');
        expect(q.code).toBe(0); // QEMU: "terminating on signal", status 0
        expect(b.code, sig).toBe(status);
        const qi = readFileSync(join(s.dir, 'q.img'));
        const bi = readFileSync(join(s.dir, 'b.img'));
        expect(Buffer.compare(qi.subarray(9 * 512, 13 * 512), Buffer.from(want)), `QEMU ${sig}`).toBe(0);
        expect(Buffer.compare(bi, qi), sig).toBe(0);
      }
    } finally {
      s.done();
    }
  }, 120_000);
});

/**
 * Run `cmd args` in `dir` as a user whom mode 0444 binds: as is, or as nobody (65534)
 * when the tests run as root (root may write any file). COM1 goes to `dir`/serial.
 */
function runUnprivileged(cmd: string, args: string[], dir: string, timeoutMs = 60_000): Promise<{ code: number | null; stderr: string; serial: string }> {
  const root = process.getuid?.() === 0;
  return new Promise((resolve, reject) => {
    let stderr = '';
    const p = spawn(cmd, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], ...(root ? { uid: 65534, gid: 65534 } : {}) });
    p.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(t);
      const serialPath = join(dir, 'serial');
      resolve({ code, stderr, serial: existsSync(serialPath) ? readFileSync(serialPath, 'latin1') : '' });
      rmSync(serialPath, { force: true });
    });
  });
}

describe.skipIf(skipWithoutQemu() || skipWithoutNasm() || skipWithoutXorriso() || !haveBios)('an image file of mode 0444', () => {
  it('-snapshot -hda and -cdrom boot it (read-only), as QEMU; plain -hda is one line and status 2', async () => {
    const { BIN } = await import('../support/cli.js');
    const s = scratchDir('bmbt-ata-');
    try {
      // The directory is the unprivileged user's to write COM1's file in.
      chmodSync(s.dir, 0o777);
      const disk = join(s.dir, 'disk.img');
      const img = ataProbeImage();
      writeFileSync(disk, img);
      const iso = cdProbeIso(s.dir);
      const isoBytes = readFileSync(iso);
      chmodSync(disk, 0o444);
      chmodSync(iso, 0o444);
      const board = ['-nodefaults', '-vga', 'std', '-nographic', '-m', '128', '-monitor', 'none', '-serial', 'file:serial',
        '-device', 'isa-debug-exit,iobase=0xf4,iosize=4'];
      const both = async (drives: string[]) => ({
        q: await runUnprivileged(QEMU_BINARY, ['-bios', BIOS, ...board, ...drives], s.dir),
        b: await runUnprivileged(process.execPath, [BIN, ...board, ...drives], s.dir, 120_000),
      });
      // -snapshot: the probe writes (to the overlay) and reads its writes back.
      const snap = await both(['-snapshot', '-hda', disk]);
      expect(snap.q.serial).toContain('READ BACK 58:8F80 58:9080');
      expect(snap.q.code).toBe(1);
      expect(snap.b.code, snap.b.stderr).toBe(1);
      expect(fromGuest(snap.b.serial)).toBe(fromGuest(snap.q.serial));
      const cd = await both(['-cdrom', iso, '-boot', 'd']);
      expect(cd.q.serial).toContain('cd-probe dl=');
      expect(cd.b.code, cd.b.stderr).toBe(1);
      expect(cd.b.serial.slice(cd.b.serial.indexOf('cd-probe dl='))).toBe(cd.q.serial.slice(cd.q.serial.indexOf('cd-probe dl=')));
      // Without -snapshot the disk must be opened for writing: QEMU says "Could not open
      // 'disk.img': Permission denied" (status 1); we say it in one line with status 2.
      const plain = await both(['-hda', disk]);
      expect(plain.q.code).toBe(1);
      expect(plain.q.stderr).toMatch(/Could not open '.*disk\.img': Permission denied/);
      expect(plain.b.code).toBe(2);
      expect(plain.b.stderr.trim().split('\n')).toHaveLength(1);
      expect(plain.b.stderr.trim()).toMatch(/^bmbt-dbg: -hda .*disk\.img: permission denied \(the guest may write this drive, so it is opened for writing; -snapshot opens it read-only\)$/);
      expect(Buffer.compare(readFileSync(disk), Buffer.from(img))).toBe(0);
      expect(Buffer.compare(readFileSync(iso), isoBytes)).toBe(0);
    } finally {
      s.done();
    }
  }, 180_000);
});

describe.skipIf(skipWithoutNasm() || !haveBios || !existsSync(KVMVAPIC))('drives in machine snapshots', () => {
  it('restoring a snapshot taken before the guest wrote brings the disk back, without copying it', async () => {
    const { snapshotEngine } = await import('../../src/snapshot/machine-snapshot.js');
    const img = ataProbeImage();
    const bytes = img.slice();
    let serial = '';
    const machine = new PcMachine({
      memoryMiB: 128, bios: readFileSync(BIOS), vgaBios: readFileSync(VGABIOS), kvmvapicRom: readFileSync(KVMVAPIC),
      serial: (b) => (serial += String.fromCharCode(b)),
      drives: [{ bus: 'ide', unit: 0, media: 'disk', image: new TrackedImage(new MemoryBackend(bytes)) }],
    });
    const engine = snapshotEngine(machine);
    const run = (): void => {
      for (let i = 0; i < 2000; i++) {
        const stop = machine.run(5_000_000);
        if (stop.kind === 'exit') return;
      }
      throw new Error('the probe did not finish');
    };
    const start = engine.take();
    run();
    const first = serial;
    expect(first).toContain('done');
    expect(Buffer.compare(Buffer.from(bytes), Buffer.from(img))).not.toBe(0);
    const afterFirst = bytes.slice();
    engine.restore(start);
    expect(Buffer.compare(Buffer.from(bytes), Buffer.from(img))).toBe(0);
    serial = '';
    run();
    expect(serial).toBe(first);
    expect(Buffer.compare(Buffer.from(bytes), Buffer.from(afterFirst))).toBe(0);
    // What the snapshots hold is the changed sectors, not the 16 MiB image.
    expect(machine.images()[0]!.heldBytes()).toBeLessThan(64 * 512);
    // IRQ 14 is on the IRQ timeline (the probe's interrupts), and the monitor shows the drive.
    expect(machine.events.recent(['irq-raise']).some((e) => e.kind === 'irq-raise' && e.line === 14)).toBe(true);
    const { DebugController } = await import('../../src/debug/controller.js');
    const { runMonitorCommand } = await import('../../src/debug/monitor.js');
    const info = await runMonitorCommand(new DebugController(machine), 'info block');
    expect(info).toMatch(/^ide0-hd0: memory \(raw\)\n    Attached to:      IDE primary master, disk, 32768 sectors \(16 MiB\)\n    Geometry:         CHS 32\/16\/63, translation none\n/);
    // The probe's FLUSH CACHE is counted (its writes ran with the write cache off: already synced).
    expect(info).toMatch(/I\/O: +\d+ sectors read, [1-9]\d* written, [1-9]\d* flushes/);
    expect(info).toMatch(/Last commands:\n(      .*\n)*      READ SECTORS lba 200 count 8, status 0x58/);
  }, 120_000);
});

describe.skipIf(skipWithoutNasm() || !haveBios)('--record / --replay with a disk', () => {
  it('needs -snapshot; with it, the replay of the ata-probe follows its recording', async () => {
    const { runCli } = await import('../support/cli.js');
    const s = scratchDir('bmbt-ata-');
    try {
      const img = join(s.dir, 'disk.img');
      writeFileSync(img, ataProbeImage());
      const rec = join(s.dir, 'probe.rr');
      const base = ['-hda', img, '-nographic', '-nodefaults', '-vga', 'std', '-serial', 'stdio', '-device', 'isa-debug-exit,iobase=0xf4,iosize=4'];
      const refused = await runCli([...base, '--record', rec], { timeoutMs: 30_000 });
      expect(refused.code).toBe(2);
      expect(refused.stderr.trim()).toMatch(/^bmbt-dbg: --record with -hda .*disk\.img: the guest would write the image, so a replay would not start from the same disk; add -snapshot$/);
      const first = await runCli([...base, '-snapshot', '--record', rec], { timeoutMs: 120_000 });
      expect(first.code).toBe(1);
      expect(first.stdout).toContain('READ BACK 58:8F80 58:9080');
      const again = await runCli([...base, '-snapshot', '--replay', rec], { timeoutMs: 120_000 });
      expect(again.stderr).not.toContain('diverged');
      expect(again.stdout).toBe(first.stdout);
      // Another disk is another boot: the replay refuses it.
      const other = ataProbeImage();
      other[150 * 512]! ^= 1;
      writeFileSync(img, other);
      const wrong = await runCli([...base, '-snapshot', '--replay', rec], { timeoutMs: 30_000 });
      expect(wrong.code).toBe(2);
      expect(wrong.stderr).toMatch(/the recording was made with other boot images or another command line/);
    } finally {
      s.done();
    }
  }, 300_000);
});
