// The state a directly booted multiboot kernel finds at entry is what QEMU 7.2's firmware
// (SeaBIOS + multiboot_dma.bin) leaves: the entry-state guest (tests/guests/entry-state)
// prints registers, the x87 unit, the 8259s, 8254, 8042, A20, RTC/CMOS, the BIOS data
// area and the local APIC, on QEMU and on bmbt-dbg without --bios, and the lines match
// except those listed in SKIP (docs/decisions.md, the direct-boot entry state).
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, runCli } from './support/cli.js';
import { skipWithoutQemu } from './support/qemu.js';
import { runQemuSerial } from './support/qemu-serial.js';

const GUEST = join(REPO, 'tests/guests/build/entry-state.elf');

/** Lines left different on purpose, with the reason. */
const SKIP: Record<string, string> = {
  ecx: 'scratch value of QEMU\'s option ROM (undefined by the multiboot spec)',
  edx: 'scratch value of QEMU\'s option ROM',
  edi: 'scratch value of QEMU\'s option ROM',
  esp: 'undefined by the spec; QEMU\'s is the ROM\'s stack, ours 0x7C00',
  eflags: 'QEMU leaves PF set from the ROM\'s last compare; the spec defines only IF=0, VM=0',
  'gdtr.base': 'QEMU\'s boot GDT is inside the option ROM; ours is beside the information structure',
  'gdtr.limit': 'the ROM\'s GDT has more entries; selectors 0x08/0x10 are the same',
  'gdt[cs].hi': 'accessed bit of the code descriptor in a read-only ROM',
  'pit1.status': 'channels 1 and 2 are never programmed by the firmware; our 8254 reset state reports lobyte/hibyte',
  'pit2.status': 'as pit1.status',
  'cpuid1.edx': 'the CPU model (CPUID and MSRs are compared by the CPU model\'s own tests)',
  pat: 'the CPU model', mtrrcap: 'the CPU model', misc_enable: 'the CPU model',
};

function lines(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const l of text.split('\n')) {
    const m = /^([^:]+): (.*)$/.exec(l.trim());
    if (m) out.set(m[1]!, m[2]!);
  }
  return out;
}

describe.skipIf(skipWithoutQemu())('direct-boot entry state against QEMU 7.2', () => {
  it('matches what SeaBIOS + multiboot_dma.bin leave, line for line', async () => {
    const [qemu, ours] = await Promise.all([
      // QEMU with bmbt-dbg's devices: its default machine adds a floppy drive and a
      // parallel port, which change CMOS 0x10/0x14 and the BIOS equipment word.
      runQemuSerial(['-nodefaults', '-vga', 'std', '-m', '128', '-kernel', GUEST]),
      runCli(['--kernel', GUEST, '-m', '128', '--ui', 'none']),
    ]);
    expect(qemu.serial, qemu.stderr).toContain('done');
    expect(ours.stdout, ours.stderr).toContain('done');
    expect(ours.code).toBe(qemu.code);
    const q = lines(qemu.serial);
    const o = lines(ours.stdout);
    const differences: string[] = [];
    for (const [k, v] of q) {
      if (k in SKIP || k.startsWith('mtrr_')) continue;
      if (o.get(k) !== v) differences.push(`${k}: QEMU ${v}, bmbt-dbg ${o.get(k) ?? '(missing)'}`);
    }
    expect(differences).toEqual([]);
    // The ones that matter most to a C kernel: FNINIT state and 1.0/3.0 computed right.
    expect(o.get('fcw')).toBe('037f');
    expect(o.get('ftw')).toBe('ffff');
    expect(o.get('1/3*1e6')).toBe('333333');
    expect(o.get('irq4 vector')).toBe('000c');
    expect(o.get('irq8 vector')).toBe('0070');
  }, 60_000);

  it('with two floppy drives, the CMOS drive types and the BIOS equipment word are QEMU\'s', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bmbt-entry-fd-'));
    try {
      // Images of their own for each emulator: both lock a floppy image they may write (as
      // QEMU does), and the two run at the same time.
      const img = (name: string, size: number): string => {
        const p = join(dir, name);
        writeFileSync(p, new Uint8Array(size));
        return p;
      };
      const [qa, qb, oa, ob] = [img('qa.img', 2949120), img('qb.img', 1474560), img('oa.img', 2949120), img('ob.img', 1474560)];
      const [qemu, ours] = await Promise.all([
        runQemuSerial(['-nodefaults', '-vga', 'std', '-m', '128', '-fda', qa, '-fdb', qb, '-kernel', GUEST]),
        runCli(['--kernel', GUEST, '-m', '128', '--ui', 'none', '-fda', oa, '-fdb', ob]),
      ]);
      expect(ours.stdout, ours.stderr).toContain('done');
      const q = lines(qemu.serial);
      const o = lines(ours.stdout);
      expect(q.get('bda.equip')).toBe('0267');
      for (const k of ['cmos 10', 'bda.equip']) expect(`${k}: ${o.get(k)}`).toBe(`${k}: ${q.get(k)}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
