// The command line and gdb's `monitor` end to end (issue 14): an empty CD-ROM drive from
// -drive media=cdrom, `change` and `eject` through gdb; and --snapshot-file across
// processes after the guest wrote its disk: the first process saves before the guest
// writes and ends (its exit brings the file up to date), the second loads the snapshot
// with -loadvm and the disk is back as it was, without the guest running.
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { skipWithoutNasm } from '../support/nasm.js';
import { ataProbeImage, BIOS, haveBios, scratchDir } from '../support/disk-images.js';
import { runGdb, skipWithoutGdb, startEmu, type Emu } from './support.js';

let emu: Emu | null = null;
afterEach(async () => {
  await emu?.close();
  emu = null;
});

const monitorLines = (out: string): string => out.split('\n').filter((l) => !/^(warning|Remote debugging|0x[0-9a-f]+ in|\[Inferior)/.test(l)).join('\n');

describe.skipIf(skipWithoutGdb())('gdb monitor: eject and change on an empty CD-ROM drive from the command line', () => {
  it('-drive if=ide,index=2,media=cdrom: [not inserted], change, eject, a missing file in one line', async () => {
    const s = scratchDir('bmbt-media-gdb-');
    try {
      const iso = join(s.dir, 'a.iso');
      writeFileSync(iso, new Uint8Array(2048 * 16));
      emu = await startEmu(['-S', '-nodefaults', '-nographic', '-drive', 'if=ide,index=2,media=cdrom']);
      const r = await runGdb(emu.port, [
        'monitor info block', `monitor change ide1-cd0 ${iso} raw`, 'monitor info block', 'monitor eject ide1-cd0', 'monitor info block',
        `monitor change ide1-cd0 ${join(s.dir, 'missing.iso')}`, 'kill',
      ], { elf: null });
      const out = monitorLines(r.out);
      const blocks = out.split(/(?=^ide1-cd0)/m).filter((b) => b.startsWith('ide1-cd0'));
      expect(blocks.length, out).toBe(3);
      expect(blocks[0]).toMatch(/^ide1-cd0: \[not inserted\]\n.*\n {4}Removable device: not locked, tray closed/);
      expect(blocks[1]).toMatch(new RegExp(`^ide1-cd0: ${iso.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\(raw, read-only\\)`));
      expect(blocks[2]).toMatch(/^ide1-cd0: \[not inserted\]\n.*\n {4}Removable device: not locked, tray open/);
      expect(out).toMatch(/error: change ide1-cd0 .*missing\.iso: .*\n/);
    } finally {
      s.done();
    }
  }, 60_000);
});

describe.skipIf(skipWithoutGdb() || skipWithoutNasm() || !haveBios)('--snapshot-file across processes after the guest wrote its disk', () => {
  it('savevm, the guest writes and exits; -loadvm in a new process puts the disk back as the snapshot saw it', async () => {
    const s = scratchDir('bmbt-snapfile-cli-');
    try {
      const disk = join(s.dir, 'disk.img');
      const file = join(s.dir, 'snaps.bin');
      writeFileSync(disk, ataProbeImage());
      const lba200 = () => readFileSync(disk).subarray(200 * 512, 201 * 512);
      const before = Buffer.from(lba200());
      const args = ['-nodefaults', '-vga', 'std', '-nographic', '-device', 'isa-debug-exit,iobase=0xf4,iosize=4', '-bios', BIOS, '-hda', disk, '--snapshot-file', file];
      // First process: savevm at power-on, then the ata-probe writes LBA 200-215 and exits.
      emu = await startEmu(['-S', ...args]);
      const r = await runGdb(emu.port, ['monitor savevm s1', 'continue'], { elf: null, timeoutMs: 120_000 });
      expect(await emu.exited, r.out + emu.stderr()).toBe(1);
      expect(Buffer.compare(lba200(), before)).not.toBe(0);
      // Second process: -loadvm restores the disk before the guest runs a single instruction.
      emu = await startEmu(['-S', ...args, '-loadvm', 's1']);
      const r2 = await runGdb(emu.port, ['monitor info snapshots', 'kill'], { elf: null });
      expect(r2.out).toMatch(/s1/);
      await emu.exited;
      expect(Buffer.compare(lba200(), before), emu.stderr()).toBe(0);
    } finally {
      s.done();
    }
  }, 180_000);
});
