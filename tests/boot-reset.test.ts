// A reset of a directly booted guest (no --bios) boots it again, as QEMU's firmware does:
// the same images from the original file bytes (the guests overwrite their own image
// before resetting), the same entry state, for every reset path (port 0x92, 0xCF9, the
// 8042, a triple fault, the debugger's reset) and every direct-boot path (multiboot,
// Linux bzImage, --boot-sector, --load). The multiboot and boot-sector guests run on
// QEMU 7.2 too, and the outputs are compared.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { REPO } from './support/cli.js';
import { skipWithoutQemu } from './support/qemu.js';
import { runQemuSerial } from './support/qemu-serial.js';
import { buildGuest } from '../cli/main.js';
import { parseCli, type CliOptions } from '../cli/options.js';
import { DebugController } from '../src/debug/controller.js';

const BUILD = join(REPO, 'tests/guests/build');
const LOWBOOT = join(BUILD, 'lowboot.elf');
const BOOT_SECTOR = join(BUILD, 'reset-bootsector.bin');

/** bmbt-dbg in process, as the CLI builds it; runs through resets until isa-debug-exit. */
function runOurs(args: string[]): { serial: string; exit: number | null; resets: number } {
  // -serial null: a UART whose output only the tap sees (-serial none would remove the UART, as QEMU).
  const opts = parseCli([...args, '--serial', 'null', '--ui', 'none']) as CliOptions;
  let serial = '';
  const { pc: machine } = buildGuest(opts, { serial: (b) => (serial += String.fromCharCode(b)) });
  for (let i = 0; i < 8; i++) {
    const stop = machine.run(250_000);
    if (stop.kind === 'exit') return { serial, exit: stop.code, resets: machine.resets };
    if (stop.kind !== 'budget' && stop.kind !== 'triple-fault') throw new Error(`stopped: ${stop.kind}\n${serial}`);
  }
  throw new Error(`no exit:\n${serial}`);
}

/** The guests' lines without the ones about where the multiboot information is. */
const withoutMbi = (s: string): string => s.split('\n').filter((l) => !/^(mbi |cmdline)/.test(l)).join('\n');

describe('reset of a directly booted guest', () => {
  it('multiboot kernel linked at 0x8000: reboots after each of the four resets, image reloaded', () => {
    const r = runOurs(['--kernel', LOWBOOT, '--append', 'low']);
    expect(r.exit).toBe(1); // isa-debug-exit: 0 * 2 + 1
    expect(r.resets).toBe(1 + 4); // power-on + four guest resets
    for (let boot = 0; boot < 5; boot++) expect(r.serial).toContain(`boot ${boot}\nimage intact: yes\nfcw: 037f\nmagic: 2badb002\nmbi outside image: yes\nmbi flags: 24d\ncmdline: ${LOWBOOT} low\n`);
    expect(r.serial).toContain('reset: triple fault\nboot 4\n');
    expect(r.serial.endsWith('done\n')).toBe(true);
  });

  it('--load images and --entry: reloaded and re-entered after each reset', () => {
    const r = runOurs(['--load', `${join(BUILD, 'lowboot.bin')}@0x8000`, '--entry', '0x800c']);
    expect(r.exit).toBe(1); // isa-debug-exit: 0 * 2 + 1
    expect(r.serial.match(/image intact: yes/g)).toHaveLength(5);
    expect(r.serial).not.toContain('image intact: no');
  });

  it('--boot-sector: the sector is loaded again at 0x7C00', () => {
    const r = runOurs(['--boot-sector', BOOT_SECTOR]);
    expect(r.serial).toBe('bs 0 code as loaded\nbs 1 code as loaded\nbs 2 code as loaded\n');
  });

  it('Linux bzImage (direct 32-bit path): zero page, command line and kernel again after 0xCF9', () => {
    const r = runOurs(['--kernel', join(BUILD, 'reset-linux.bin'), '--append', 'console=ttyS0']);
    expect(r.serial).toBe([0, 1, 2].map((n) => `linux ${n} cmdline console=ttyS0 code as loaded\n`).join(''));
  });

  it('the debugger\'s reset (and the monitor\'s system_reset) boots the kernel again', async () => {
    const opts = parseCli(['--kernel', LOWBOOT, '--serial', 'null', '--ui', 'none']) as CliOptions;
    let serial = '';
    const { pc: machine } = buildGuest(opts, { serial: (b) => (serial += String.fromCharCode(b)) });
    const ctl = new DebugController(machine);
    // Run boot 0 until it has scribbled over its image and is about to reset.
    for (let i = 0; i < 2000 && !serial.includes('reset: port 0x92'); i++) machine.run(1000);
    expect(serial).toContain('reset: port 0x92');
    serial = '';
    await ctl.reset('test');
    expect(machine.cpu.eip).toBe(0x800c);
    expect(machine.cpu.regs[0]! >>> 0).toBe(0x2badb002);
    expect(machine.cpu.fpu.fcw).toBe(0x37f);
    machine.run(200_000);
    expect(serial).toContain('image intact: yes\n');
  });
});

describe.skipIf(skipWithoutQemu())('reset of a directly booted guest against QEMU 7.2', () => {
  it('multiboot kernel linked at 0x8000: the same boots and image checks as under QEMU', async () => {
    const q = await runQemuSerial(['-kernel', LOWBOOT, '-append', 'low']);
    expect(q.serial, q.stderr).toContain('done');
    const ours = runOurs(['--kernel', LOWBOOT, '--append', 'low']);
    expect(withoutMbi(ours.serial)).toBe(withoutMbi(q.serial));
    expect(q.code).toBe(1); // isa-debug-exit: 0 * 2 + 1
    // QEMU puts its information structure at 0x9500, inside this kernel, and loads the
    // kernel over it (spec 3.3 forbids the overlap); ours lies outside the image.
    expect(q.serial).toContain('mbi outside image: no');
    expect(ours.serial).not.toContain('mbi outside image: no');
  }, 60_000);

  it('boot sector: rebooted from its original bytes as QEMU\'s BIOS does from disk', async () => {
    const q = await runQemuSerial(['-drive', `file=${BOOT_SECTOR},format=raw,if=ide`]);
    expect(runOurs(['--boot-sector', BOOT_SECTOR]).serial).toBe(q.serial);
  }, 60_000);
});
