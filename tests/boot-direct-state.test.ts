// A direct boot (no --bios) leaves the MTRRs as SeaBIOS does under QEMU 7.2 (issue 9,
// corpus gap direct-entry-state): the cpu-probe guest reads them after SeaBIOS on QEMU and
// after bmbt-dbg's own direct boot, and the values must be the same. Linux reads them to
// set up PAT ("CPU MTRRs all blank" with the RESET state).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PcMachine } from '../src/machine/pc-machine.js';
import { installDirectBoot } from '../src/boot/direct-boot.js';
import { skipWithoutQemu } from './support/qemu.js';
import { PROBE_ELF, probeOnQemu } from './support/cpu-probe.js';

const MTRR_LINE = /^r 000002(0[0-9a-f]|5[089]|6[89a-f]|ff) /;

function directProbe(model: string, memoryMiB: number): string {
  let out = '';
  const m = new PcMachine({
    memoryMiB, cpuModel: model,
    debugcons: [{ port: 0xe9, output: (b) => (out += String.fromCharCode(b)) }],
  });
  installDirectBoot(m, {
    kind: 'multiboot', kernel: readFileSync(PROBE_ELF),
    options: { kernelName: PROBE_ELF, cmdline: `${PROBE_ELF} msr`, modules: [], ramSize: m.ramSize },
  });
  for (let i = 0; i < 200; i++) {
    const stop = m.run(20_000_000);
    if (stop.kind === 'exit' || stop.kind === 'halted-forever' || stop.kind === 'power-off') break;
  }
  return out;
}

const pick = (s: string): string => s.split('\n').filter((l) => MTRR_LINE.test(l)).join('\n');

describe.skipIf(skipWithoutQemu())('direct boot: MTRRs as SeaBIOS leaves them', () => {
  it('pentium2, 64 MiB: every MTRR reads as under QEMU after SeaBIOS', async () => {
    const q = await probeOnQemu('pentium2', 'msr');
    const b = directProbe('pentium2', 64);
    expect(pick(q.out).split('\n').length).toBe(28);
    expect(pick(b)).toBe(pick(q.out));
    expect(pick(b)).toContain('r 000002ff 00000000:00000c06');
  }, 120_000);
});

describe('direct Linux boot: screen_info as the setup code leaves it under SeaBIOS', () => {
  it('80x25 colour text on a VGA, so Linux takes vgacon ("Console: colour VGA+ 80x25")', async () => {
    const { loadLinux, BOOT_PARAMS } = await import('../src/boot/linux.js');
    const m = new PcMachine({ memoryMiB: 64 });
    const image = readFileSync(new URL('./guests/build/reset-linux.bin', import.meta.url));
    loadLinux(m.phys, m.cpu, image, { name: 'reset-linux.bin', cmdline: '', initrd: null, ramSize: m.ramSize });
    const zp = (off: number): number => m.phys.read8(BOOT_PARAMS + off);
    expect([zp(0x06), zp(0x07), zp(0x0e), zp(0x0f), zp(0x10), zp(0x0a)]).toEqual([3, 80, 25, 1, 16, 3]);
  });
});
