// The floppy controller's rarer commands against QEMU 7.2: tests/guests/disk/fdcmd-probe.asm
// (booted from a hard disk) sends drive A FORMAT TRACK (twice, with 18 and 9 sectors per
// track, and the reads that follow), READ TRACK, the multi-track forms QEMU rejects, and
// SCAN EQUAL / LOW OR EQUAL / HIGH OR EQUAL by DMA (verify mode) and by PIO; the serial
// output and the floppy image afterwards must be QEMU's.
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { skipWithoutQemu } from '../support/qemu.js';
import { assemble, skipWithoutNasm } from '../support/nasm.js';
import { haveBios, runOursDrives, runQemuDrives, scratchDir } from '../support/disk-images.js';
import { REPO } from '../support/cli.js';

function images(dir: string, side: string): string[] {
  const probe = new Uint8Array(1 << 20);
  probe.set(assemble(readFileSync(join(REPO, 'tests/guests/disk/fdcmd-probe.asm'), 'utf8')));
  writeFileSync(join(dir, 'probe.img'), probe);
  // Every byte of LBA n is ((n + 1) * 3 + offset / 64) & 0xff: the sums tell sectors apart.
  const fd = new Uint8Array(1474560);
  for (let i = 0; i < fd.length; i++) fd[i] = ((((i >> 9) + 1) * 3) + ((i & 511) >> 6)) & 0xff;
  writeFileSync(join(dir, `${side}.img`), fd);
  return [
    '-drive', `file=${join(dir, 'probe.img')},format=raw,if=ide,index=0`,
    '-drive', `file=${join(dir, `${side}.img`)},format=raw,if=floppy,index=0`, '-boot', 'c',
  ];
}

describe.skipIf(skipWithoutQemu() || skipWithoutNasm() || !haveBios)('floppy: FORMAT TRACK, READ TRACK, SCAN against QEMU', () => {
  it('fdcmd-probe: the same results, data and DMA counts, and the same image afterwards', async () => {
    const s = scratchDir('bmbt-fdcmd-');
    try {
      const q = await runQemuDrives(s.dir, images(s.dir, 'q'));
      const b = await runOursDrives(s.dir, images(s.dir, 'b'));
      const from = (t: string) => t.slice(t.indexOf('fdcmd-probe')).replace(/\r/g, '');
      expect(q.serial).toContain('done');
      // What QEMU measured: FORMAT TRACK answers at once and the drive then counts the
      // command's sectors per track (DUMPREG's 7th byte, and where C1 H0 R1 is read from);
      // a SCAN ends with ST2 0x08, and SCAN HIGH OR EQUAL moves nothing (DMA count 01FF).
      expect(from(q.serial)).toContain('FORMAT [00 00 00 00 00 01 02 ] [00 00 00 00 0D 03 09 00 60 00 ] 7900 [20 00 00 01 00 01 02 ]');
      expect(from(q.serial)).toContain('READ TRACK 3800 [20 00 00 00 00 04 02 ] [80 ] [80 ]');
      expect(from(q.serial)).toContain('>5D [20 00 08 00 00 01 02 ] 01FF');
      expect(from(b.serial)).toBe(from(q.serial));
      expect(Buffer.compare(readFileSync(join(s.dir, 'b.img')), readFileSync(join(s.dir, 'q.img')))).toBe(0);
    } finally {
      s.done();
    }
  }, 180_000);
});
