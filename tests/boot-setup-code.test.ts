// Linux-format images whose real-mode setup code must run (boot protocol before 2.10, or
// a zImage) boot through SeaBIOS + linuxboot_dma.bin when no --bios is given, with the
// fw_cfg layout QEMU's loader picks for each protocol; modern bzImages keep the direct
// 32-bit path. iPXE's ipxe.lkrn (Debian package ipxe) reaches its banner and GRUB's
// lnxboot.img + core.img (grub-pc-bin) its prompt, on QEMU 7.2 and on bmbt-dbg.
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildGuest } from '../cli/main.js';
import { parseCli, type CliOptions } from '../cli/options.js';
import { FwCfg, FW_CFG_CMDLINE_ADDR, FW_CFG_KERNEL_ADDR, FW_CFG_SETUP_ADDR, FW_CFG_SETUP_DATA } from '../src/devices/fw-cfg.js';
import { IoBus } from '../src/devices/io-bus.js';
import { prepareBiosKernelBoot, kernelNeedsFirmware } from '../src/boot/fw-cfg-boot.js';
import { linuxNeedsSetupCode } from '../src/boot/linux.js';
import { skipWithoutQemu } from './support/qemu.js';
import { qemuScreenUntil } from './support/qemu-vga.js';
import { REPO } from './support/cli.js';

const IPXE = '/usr/lib/ipxe/ipxe.lkrn';
const LNXBOOT = '/usr/lib/grub/i386-pc/lnxboot.img';
const IPXE_BANNER = 'Open Source Network Boot Firmware';
const GRUB_PROMPT = 'grub rescue>';

/** Skip with a notice when a Debian package's file is missing, except in CI (then fail). */
function skipWithout(path: string, pkg: string): boolean {
  if (existsSync(path) || process.env.CI) return false;
  console.warn(`[${pkg}] ${path} not found: tests that need it are skipped (apt-get install ${pkg})`);
  return true;
}

/** A Linux-format header: protocol `version` (0: no HdrS at all), `loadflags`, `setupSects`. */
function linuxImage(version: number, loadflags: number, setupSects = 1): Uint8Array {
  const k = new Uint8Array((setupSects + 1) * 512 + 4096);
  const dv = new DataView(k.buffer);
  k[0x1f1] = setupSects;
  dv.setUint16(0x1fe, 0xaa55, true);
  if (version) {
    k.set([0x48, 0x64, 0x72, 0x53], 0x202);
    dv.setUint16(0x206, version, true);
    k[0x211] = loadflags;
  }
  return k;
}

function layout(k: Uint8Array, cmdline = 'console=ttyS0') {
  const fw = new FwCfg(new IoBus());
  const kind = prepareBiosKernelBoot(fw, { kernelName: 'k', kernel: k, cmdline, initrds: [], ramSize: 64 << 20, optionRom: () => new Uint8Array(512) });
  const u32 = (key: number): number => new DataView(fw.item(key)!.buffer).getUint32(0, true);
  return { kind, setup: u32(FW_CFG_SETUP_ADDR), prot: u32(FW_CFG_KERNEL_ADDR), cmdline: u32(FW_CFG_CMDLINE_ADDR), setupData: fw.item(FW_CFG_SETUP_DATA)! };
}

describe('which Linux images need their setup code, and where QEMU\'s loader puts them', () => {
  it('only bzImages of protocol 2.10+ take the direct 32-bit path', () => {
    expect(linuxNeedsSetupCode(linuxImage(0x020f, 1))).toBe(false);
    expect(linuxNeedsSetupCode(linuxImage(0x020a, 1))).toBe(false);
    expect(linuxNeedsSetupCode(linuxImage(0x0207, 1))).toBe(true); // ipxe.lkrn
    expect(linuxNeedsSetupCode(linuxImage(0x0203, 1))).toBe(true); // GRUB's lnxboot
    expect(linuxNeedsSetupCode(linuxImage(0x020f, 0))).toBe(true); // a zImage
    expect(kernelNeedsFirmware(linuxImage(0, 0))).toBe(true); // before 2.00: no HdrS
    expect(kernelNeedsFirmware(readFileSync(join(REPO, 'tests/guests/build/lowboot.elf')))).toBe(false);
  });

  it('protocol 2.02+ bzImage: setup 0x10000, command line 0x20000, kernel at 1 MiB, cmd_line_ptr', () => {
    const l = layout(linuxImage(0x0203, 1));
    expect([l.kind, l.setup, l.cmdline, l.prot]).toEqual(['linux', 0x10000, 0x20000, 0x100000]);
    expect(new DataView(l.setupData.buffer).getUint32(0x228, true)).toBe(0x20000);
    expect(l.setupData[0x210]).toBe(0xb0);
    expect(new DataView(l.setupData.buffer).getUint16(0x224, true)).toBe(0x20000 - 0x10000 - 0x200);
  });

  it('protocol 2.00/2.01 bzImage: setup and command line below 640 KiB, old command-line magic', () => {
    const l = layout(linuxImage(0x0201, 1), 'root=/dev/hda'); // 13 bytes: (13 + 16) & ~15 reserved
    expect([l.setup, l.cmdline, l.prot]).toEqual([0x90000, 0x9a000 - 16, 0x100000]);
    const dv = new DataView(l.setupData.buffer);
    expect(dv.getUint16(0x20, true)).toBe(0xa33f);
    expect(dv.getUint16(0x22, true)).toBe(0x9a000 - 16 - 0x90000);
    expect(l.setupData[0x211]! & 0x80).toBe(0x80);
  });

  it('zImage and pre-2.00 images: the protected-mode part at 0x10000', () => {
    expect(layout(linuxImage(0x0204, 0)).prot).toBe(0x10000);
    const old = layout(linuxImage(0, 0));
    expect([old.kind, old.setup, old.prot]).toEqual(['linux', 0x90000, 0x10000]);
    expect(old.setupData[0x210]).toBe(0); // no loader type field before 2.00
  });
});

/** bmbt-dbg in process until its VGA text screen shows `want` (or `maxInsns` pass). */
function oursUntil(kernel: string, want: string, maxInsns: number): string {
  const { pc: machine } = buildGuest(parseCli(['--kernel', kernel, '--serial', 'none', '--ui', 'none']) as CliOptions);
  let screen = '';
  while (machine.cpu.icount < maxInsns) {
    machine.run(4_000_000);
    screen = machine.vga.textScreen().chars.join('\n');
    if (screen.includes(want)) break;
  }
  return screen;
}

/** GRUB as a Linux kernel: lnxboot.img in front of a core.img made by grub-mkimage. */
function buildGrubLkrn(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bmbt-grub-'));
  const core = join(dir, 'core.img');
  const r = spawnSync('grub-mkimage', ['-O', 'i386-pc', '-o', core, '-p', '(hd0)/boot/grub', 'biosdisk'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`grub-mkimage failed: ${r.stderr}`);
  const lkrn = join(dir, 'grub.lkrn');
  writeFileSync(lkrn, Buffer.concat([readFileSync(LNXBOOT), readFileSync(core)]));
  return lkrn;
}

describe.skipIf(skipWithoutQemu() || skipWithout(IPXE, 'ipxe'))('ipxe.lkrn (protocol 2.07)', () => {
  it('reaches the iPXE banner on QEMU and on bmbt-dbg (no --bios: SeaBIOS is used)', async () => {
    const q = await qemuScreenUntil(['-kernel', IPXE, '-net', 'none'], IPXE_BANNER);
    expect(q).toContain(IPXE_BANNER);
    const ours = oursUntil(IPXE, IPXE_BANNER, 800_000_000);
    expect(ours).toContain(IPXE_BANNER);
    expect(ours).toContain('iPXE initialising devices...ok');
  }, 300_000);
});

describe.skipIf(skipWithoutQemu() || skipWithout(LNXBOOT, 'grub-pc-bin'))('GRUB lnxboot.img + core.img (protocol 2.03)', () => {
  it('reaches the GRUB prompt on QEMU and on bmbt-dbg', async () => {
    const lkrn = buildGrubLkrn();
    const q = await qemuScreenUntil(['-kernel', lkrn, '-net', 'none'], GRUB_PROMPT);
    expect(q).toContain('Welcome to GRUB!');
    expect(q).toContain(GRUB_PROMPT);
    const ours = oursUntil(lkrn, GRUB_PROMPT, 300_000_000);
    expect(ours).toContain('Welcome to GRUB!');
    expect(ours).toContain(GRUB_PROMPT);
  }, 300_000);
});
