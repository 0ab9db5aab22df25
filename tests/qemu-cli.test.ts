// QEMU's command-line spellings mean here what they mean to qemu-system-i386 7.2: the same
// argument list is given to both emulators and a probe guest reports which devices it
// finds (UART, VGA, isa-debug-exit at 0xF4 and 0x501, debug consoles, pc-testdev,
// pci-testdev's slot); stdout and the exit status must be the same. Spellings we do not
// have are one line and status 2.
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { skipWithoutQemu } from './support/qemu.js';
import { skipWithoutNasm } from './support/nasm.js';
import { HEX_NIBBLE, HEX_PRINTER, multibootFlat, runBoth, runQemuCli } from './support/same-command-line.js';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The probe, printing on `out`; it ends through isa-debug-exit (0xF4 or 0x501) or a triple fault. */
function probe(out: number): string {
  return multibootFlat(`
%define OUT ${out}
${HEX_PRINTER}
start:
  mov esp, 0x90000
  mov dx, 0x3fd
  in al, dx
  print_hex OUT                 ; UART line status (0x60 with a UART at 0x3F8)
  mov dx, 0x3cc
  in al, dx
  print_hex OUT                 ; VGA misc output register
  in al, 0xf4
  print_hex OUT                 ; isa-debug-exit reads 0
  mov dx, 0x501
  in al, dx
  print_hex OUT
  in al, 0xe9
  print_hex OUT                 ; isa-debugcon reads back 0xE9
  mov dx, 0x402
  in al, dx
  print_hex OUT
  mov al, 0x5a
  out 0xe0, al
  in al, 0xe0
  print_hex OUT                 ; pc-testdev's data register
  xor ecx, ecx
.scan:                          ; pci-testdev (1b36:0005): which slot?
  mov eax, ecx
  shl eax, 11
  or eax, 0x80000000
  mov dx, 0xcf8
  out dx, eax
  mov dx, 0xcfc
  in eax, dx
  cmp eax, 0x00051b36
  je .found
  inc ecx
  cmp ecx, 32
  jb .scan
  mov ecx, 0xff
.found:
  mov al, cl
  print_hex OUT
  mov dx, OUT
  mov al, 10
  out dx, al
  mov al, 7                     ; the end: whichever isa-debug-exit exists (status 15) ...
  out 0xf4, al
  mov dx, 0x501
  out dx, al
  lidt [null_idt]               ; ... else a triple fault (-no-reboot: status 0)
  int3
null_idt:
  dw 0
  dd 0
${HEX_NIBBLE}
`);
}

const BASE = ['-display', 'none', '-monitor', 'none', '-no-reboot'];

describe.skipIf(skipWithoutQemu() || skipWithoutNasm())('the same command line on QEMU and on bmbt-dbg', () => {
  let on0xe9 = '';
  let on0x402 = '';
  beforeAll(() => {
    on0xe9 = probe(0xe9);
    on0x402 = probe(0x402);
  });

  const cases: [string, () => string[]][] = [
    ['-nodefaults: no UART, no VGA, no isa-debug-exit, only the asked-for console', () =>
      ['-kernel', on0xe9, ...BASE, '-nodefaults', '-debugcon', 'stdio']],
    ['-nodefaults -vga std: the VGA is back (its misc output register answers), the rest stays away', () =>
      ['-kernel', on0xe9, ...BASE, '-nodefaults', '-vga', 'std', '-debugcon', 'stdio']],
    ['-device isa-debug-exit: QEMU\'s default ports 0x501/2', () =>
      ['-kernel', on0xe9, ...BASE, '-nodefaults', '-debugcon', 'stdio', '-device', 'isa-debug-exit']],
    ['a kvm-unit-tests line: pc-testdev, pci-testdev, isa-debug-exit at 0xf4, -serial, -machine accel=tcg', () =>
      ['-kernel', on0x402, ...BASE, '-nodefaults', '-vga', 'none', '-device', 'pc-testdev', '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x4',
        '-serial', 'null', '-device', 'pci-testdev', '-machine', 'accel=tcg', '-chardev', 'stdio,id=log',
        '-device', 'isa-debugcon,iobase=0x402,chardev=log']],
    ['-debugcon with pc-testdev: the console answers at 0xE9 (QEMU creates it after every -device)', () =>
      ['-kernel', on0xe9, ...BASE, '-nodefaults', '-device', 'pc-testdev', '-debugcon', 'stdio', '-device', 'isa-debug-exit,iobase=0xf4,iosize=4']],
    ['-device isa-debugcon at 0xE9 after pc-testdev answers there', () =>
      ['-kernel', on0xe9, ...BASE, '-nodefaults', '-device', 'pc-testdev', '-chardev', 'stdio,id=c', '-device', 'isa-debugcon,chardev=c']],
    ['-device isa-debugcon at 0xE9 before pc-testdev is shadowed by it (the probe prints on 0x402)', () =>
      ['-kernel', on0x402, ...BASE, '-nodefaults', '-chardev', 'file,id=n,path=/dev/null', '-device', 'isa-debugcon,chardev=n', '-device', 'pc-testdev',
        '-chardev', 'stdio,id=c', '-device', 'isa-debugcon,iobase=0x402,chardev=c']],
    ['-serial none takes the UART away, -vga none the VGA; -M pc -accel tcg -m 64 change nothing', () =>
      ['-kernel', on0xe9, ...BASE, '-nodefaults', '-serial', 'none', '-vga', 'none', '-M', 'pc', '-accel', 'tcg', '-m', '64',
        '-chardev', 'stdio,id=c', '-device', 'isa-debugcon,chardev=c', '-device', 'isa-debug-exit,iobase=0x501']],
  ];
  for (const [name, args] of cases) {
    it(name, async () => {
      const a = args();
      const { qemu, ours } = await runBoth(a);
      // (On 0x402 SeaBIOS's log comes first under QEMU: the probe's line is the last.)
      const line = (out: string): string | undefined => out.split('\n').filter((l) => /^([0-9A-F]{2} ){8}$/.test(l)).pop();
      expect(line(qemu.stdout)).toBeDefined();
      expect(line(ours.stdout)).toBe(line(qemu.stdout));
      expect(ours.code).toBe(qemu.code);
    });
  }

  it('-nographic with -serial mon:stdio and -serial stdio: the UART on stdout; -machine pc,accel=tcg written in full', async () => {
    const on0x3f8 = probe(0x3f8);
    for (const serial of ['mon:stdio', 'stdio']) {
      const a = ['-kernel', on0x3f8, '-no-reboot', '-nodefaults', '-nographic', '-serial', serial, '-machine', 'pc,accel=tcg', '-device', 'isa-debug-exit,iobase=0xf4,iosize=4'];
      const { qemu, ours } = await runBoth(a);
      // QEMU's SeaBIOS mirrors its screen on the UART first ("Booting from ROM.." without a
      // line end): the probe's line is the last match.
      const line = (out: string): string | undefined => out.match(/([0-9A-F]{2} ){8}\n/g)?.pop();
      expect(line(qemu.stdout)).toBeDefined();
      expect(line(ours.stdout)).toBe(line(qemu.stdout));
      expect(ours.code).toBe(qemu.code);
    }
  });

  it('-serial file:PATH and -chardev file,path=PATH write the same bytes to their files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bmbt-qcli-'));
    const on0x3f8 = probe(0x3f8);
    const on0xe9 = probe(0xe9);
    const files = (who: string) => ({ serial: join(dir, `${who}-serial.txt`), con: join(dir, `${who}-con.txt`) });
    const args = (f: { serial: string; con: string }, kernel: string) => ['-kernel', kernel, ...BASE, '-nodefaults',
      '-device', 'isa-debug-exit,iobase=0xf4,iosize=4', '-serial', `file:${f.serial}`,
      '-chardev', `file,id=c,path=${f.con}`, '-device', 'isa-debugcon,chardev=c'];
    for (const kernel of [on0x3f8, on0xe9]) {
      const q = files('qemu'); const o = files('ours');
      const [qemu, ours] = await Promise.all([runQemuCli(args(q, kernel)), runCli(args(o, kernel))]);
      expect(ours.code).toBe(qemu.code);
      const qs = readFileSync(q.serial, 'latin1'); const qc = readFileSync(q.con, 'latin1');
      expect(qs + qc).toMatch(/([0-9A-F]{2} ){8}\n/);
      expect(readFileSync(o.serial, 'latin1')).toBe(qs);
      expect(readFileSync(o.con, 'latin1')).toBe(qc);
    }
  });

  it('without -nodefaults, bmbt-dbg keeps its own isa-debug-exit at 0xF4 and consoles at 0xE9/0x402 (decisions.md)', async () => {
    const a = ['-kernel', on0xe9, ...BASE, '-debugcon', 'stdio'];
    const { qemu, ours } = await runBoth(a);
    // QEMU: nothing at 0xF4 or 0x402; the probe ends in a triple fault (status 0).
    expect(qemu.stdout).toBe('60 67 FF FF E9 FF FF FF \n');
    expect(qemu.code).toBe(0);
    expect(ours.stdout).toBe('60 67 00 FF E9 E9 FF FF \n');
    expect(ours.code).toBe(15);
  });
});

describe('spellings bmbt-dbg does not have, and bad values: one line, status 2', () => {
  const bad: [string[], RegExp][] = [
    [['-usbdevice', 'tablet'], /^bmbt-dbg: -usbdevice: this QEMU option is not supported by bmbt-dbg$/],
    [['-device', 'e1000'], /-device e1000: unknown device \(bmbt-dbg has isa-debug-exit, isa-debugcon, pc-testdev, pci-testdev\)/],
    [['-device', 'isa-debug-exit,iobase=zz'], /iobase=: "zz" is not a number/],
    [['-device', 'isa-debug-exit,iobase=0xfffe,iosize=4'], /outside 0-0xffff/],
    [['-device', 'isa-debug-exit,colour=red'], /property "colour" is not supported/],
    [['-device', 'isa-debugcon,chardev=nope'], /no -chardev with id "nope"/],
    [['-chardev', 'stdio,id=c', '-device', 'isa-debugcon,chardev=c', '-device', 'isa-debugcon,iobase=0x402,chardev=c'], /chardev "c" is already in use by another device/],
    [['-chardev', 'socket,id=x,path=/tmp/s'], /backend "socket" is not supported/],
    [['-icount', 'shift=11'], /-icount shift=11: shift must be 0-10 or auto/],
    [['-icount', 'shift=-1'], /shift must be 0-10 or auto/],
    [['-icount', 'junk=1'], /property "junk" is not supported/],
    [['-machine', 'q35'], /machine "q35" is not supported \(only pc\)/],
    [['-accel', 'kvm'], /-accel kvm is not supported \(only tcg\)/],
    [['-display', 'gtk'], /-display gtk is not supported \(only none\)/],
    [['-monitor', 'stdio'], /-monitor stdio is not supported \(only none\)/],
    [['-m', '512k'], /-m 512k: bmbt-dbg takes whole MiB/],
    [['-m', '4G'], /4096 MiB is out of range/],
    [['-m', 'lots'], /-m lots: not a size/],
    [['-serial', 'stdio', '-serial', 'null'], /a second -serial \(COM2\) is not supported/],
    [['-d', 'out_asm'], /-d out_asm: this QEMU log item is not supported by bmbt-dbg/],
    [['-d', 'int,bogus'], /-d bogus: unknown log item/],
    [['-icount', '3', '--ns-per-insn', '2'], /give one/],
    [['-device', 'isa-debug-exit,iobase=0x3f8'], /isa-debug-exit at 0x3f8: port 0x3f8 is already taken by/],
    [['-smp', '9'], /^bmbt-dbg: -smp 9: the number of CPUs must be 1-8$/],
    [['-smp', 'cpus=0'], /-smp cpus=0: the number of CPUs must be 1-8/],
    [['-smp', 'two'], /-smp two: expected N or cpus=N \(1-8\)/],
    [['-smp', '2,sockets=2'], /-smp 2,sockets=2: expected N or cpus=N/],
  ];
  for (const [args, pattern] of bad) {
    it(args.join(' '), async () => {
      const r = await runCli(['--kernel', 'samples/build/hello.elf', ...args]);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(pattern);
    });
  }

  it('-d help lists the items and exits 0, as QEMU', async () => {
    const r = await runCli(['-d', 'help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Log items \(comma separated\):\n/);
    for (const item of ['int', 'cpu_reset', 'guest_errors', 'unimp', 'in_asm', 'exec', 'nochain']) expect(r.stdout).toMatch(new RegExp(`^${item} +\\S`, 'm'));
  });
});

describe('-m as QEMU', () => {
  it('sizes with suffixes, the 128 MiB default, 0 meaning the default', async () => {
    const { parseMemory, DEFAULT_MEMORY_MIB, parseCli } = await import('../cli/options.js');
    expect(DEFAULT_MEMORY_MIB).toBe(128);
    expect(parseMemory('64')).toBe(64);
    expect(parseMemory('64M')).toBe(64);
    expect(parseMemory('64m')).toBe(64);
    expect(parseMemory('65536k')).toBe(64);
    expect(parseMemory('1G')).toBe(1024);
    expect(parseMemory('1.5G')).toBe(1536);
    expect(parseMemory('size=256M')).toBe(256);
    expect(parseMemory('0')).toBe(128);
    const opts = parseCli(['--kernel', 'k']);
    expect(typeof opts === 'object' && opts.memoryMiB).toBe(128);
  });
});
