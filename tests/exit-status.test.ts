// Headless exit statuses (README "Exit status"): an isa-debug-exit status is always odd
// ((value << 1) | 1), so every status of our own is even. Where QEMU defines the ending
// (power-off, a reset under -no-reboot) the same command line runs on QEMU too and both
// must agree; a triple fault without -no-reboot resets the machine and the run goes on.
import { beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, REPO, runCli } from './support/cli.js';
import { skipWithoutQemu } from './support/qemu.js';
import { skipWithoutNasm } from './support/nasm.js';
import { multibootFlat, runBoth } from './support/same-command-line.js';

const BASE = ['-display', 'none', '-monitor', 'none', '-serial', 'null', '-device', 'isa-debug-exit,iobase=0xf4,iosize=4'];
const SEABIOS = '/usr/share/seabios/bios.bin';

/** PIIX4 PM at 0x600 (PMBA, PMREGMISC), then SLP_TYP=S5 | SLP_EN to PM1a_CNT. */
const POWER_OFF = `
start:
  mov eax, 0x80000000 | (1 << 11) | (3 << 8) | 0x40
  mov dx, 0xcf8
  out dx, eax
  mov dx, 0xcfc
  mov eax, 0x601
  out dx, eax
  mov eax, 0x80000000 | (1 << 11) | (3 << 8) | 0x80
  mov dx, 0xcf8
  out dx, eax
  mov dx, 0xcfc
  mov al, 1
  out dx, al
  mov dx, 0x604
  mov ax, 0x2000
  out dx, ax
  cli
  hlt
`;

const TRIPLE_FAULT = `
start:
  mov al, 'T'
  out 0xe9, al
  lidt [null_idt]
  int3
null_idt:
  dw 0
  dd 0
`;

const CF9_RESET = `
start:
  mov dx, 0xcf9
  mov al, 0x06
  out dx, al
  cli
  hlt
`;

describe.skipIf(skipWithoutQemu() || skipWithoutNasm())('exit statuses, the same command line on QEMU and on bmbt-dbg', () => {
  let powerOff = '';
  let tripleFault = '';
  let cf9 = '';
  let exit0x10 = '';
  beforeAll(() => {
    powerOff = multibootFlat(POWER_OFF);
    tripleFault = multibootFlat(TRIPLE_FAULT);
    cf9 = multibootFlat(CF9_RESET);
    exit0x10 = multibootFlat('start:\n  mov al, 0x10\n  out 0xf4, al\n  hlt\n');
  });

  it('isa-debug-exit: (value << 1) | 1', async () => {
    const { qemu, ours } = await runBoth(['-kernel', exit0x10, ...BASE]);
    expect(qemu.code).toBe(0x21);
    expect(ours.code).toBe(0x21);
  });

  it('ACPI S5 power-off: 0', async () => {
    const { qemu, ours } = await runBoth(['-kernel', powerOff, ...BASE]);
    expect(qemu.code).toBe(0);
    expect(ours.code).toBe(0);
    expect(ours.stderr).toMatch(/guest powered off \(ACPI S5\)/);
  });

  it('a triple fault with -no-reboot: 0, and a line saying why', async () => {
    const { qemu, ours } = await runBoth(['-kernel', tripleFault, ...BASE, '-no-reboot']);
    expect(qemu.code).toBe(0);
    expect(ours.code).toBe(0);
    expect(ours.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^bmbt-dbg: guest reset \(triple fault\) at 0x[0-9a-f]+ after \d+ instructions; -no-reboot ends the run$/)]);
  });

  it('a reset through 0xCF9 with -no-reboot: 0, and a line saying why', async () => {
    const { qemu, ours } = await runBoth(['-kernel', cf9, ...BASE, '-no-reboot']);
    expect(qemu.code).toBe(0);
    expect(ours.code).toBe(0);
    expect(ours.stderr).toMatch(/guest reset \(reset control 0xCF9\).*-no-reboot ends the run/);
  });

  it.skipIf(!existsSync(SEABIOS))('a triple fault without -no-reboot resets the machine and the run goes on (the firmware boots the kernel again)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bmbt-exit-'));
    const dbg = join(dir, 'debugcon.txt');
    // About 6.3 M instructions per boot through SeaBIOS: room for two boots and a half.
    const r = await runCli(['--bios', SEABIOS, '-kernel', tripleFault, '-serial', 'null', '-debugcon', `file:${dbg}`, '--max-insns', '16000000'], { timeoutMs: 120_000 });
    expect(r.code).toBe(124);
    // The first reset is told; the others are counted once at the end, not a line each
    // (a guest that triple-faults after every reset would flood stderr; QEMU says nothing).
    expect(r.stderr.match(/guest triple fault; machine reset/g)?.length).toBe(1);
    expect(r.stderr).toMatch(/^bmbt-dbg: [1-9]\d* more triple faults? reset the machine$/m);
    expect(readFileSync(dbg, 'latin1').split('T').length - 1).toBeGreaterThanOrEqual(2);
  }, 180_000);
});

describe('exit statuses of our own are even', () => {
  it('--max-insns: 124 (as timeout(1)) and a note', async () => {
    const r = await runCli(['--kernel', 'samples/build/bench-intloop.elf', '--max-insns', '100000']);
    expect(r.code).toBe(124);
    expect(r.stderr).toMatch(/stopped after 100000 instructions \(--max-insns\)/);
  });

  it('halted for good (cli; hlt): 0 and a note', async () => {
    const r = await runCli(['--kernel', 'samples/build/demo.elf']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/halted with interrupts disabled/);
  });

  it.skipIf(skipWithoutNasm())('-no-shutdown: a power-off pauses the machine and the process waits, as QEMU', async () => {
    const kernel = multibootFlat(POWER_OFF);
    const child = spawn(process.execPath, [BIN, '-kernel', kernel, '-serial', 'null', '-no-shutdown'], { cwd: REPO, stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdin.end();
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    let exited = false;
    const closed = new Promise<number | null>((r) => child.on('close', (code) => {
      exited = true;
      r(code);
    }));
    for (let i = 0; i < 200 && !/paused/.test(stderr); i++) await new Promise((r) => setTimeout(r, 50));
    expect(stderr).toMatch(/guest powered off after \d+ instructions; paused \(-no-shutdown\)/);
    await new Promise((r) => setTimeout(r, 500));
    expect(exited).toBe(false);
    child.kill('SIGTERM');
    await closed;
  });
});
