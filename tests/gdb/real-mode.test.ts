// gdb on SeaBIOS in real mode (CS base 0xf0000), the same commands against QEMU's stub
// and against bmbt-dbg (issue 11, defects 2 and 4):
// - a hardware breakpoint on a linear address stops there, though EIP (what gdb calls
//   $pc) is 0xffff less: gdb reports it as QEMU does, as a SIGTRAP at EIP (it used to
//   ignore the stop, because the stop reply claimed a breakpoint hit at a PC where gdb
//   knows none, and resume);
// - stepi on a HLT moves past it as QEMU's does: the HLT waits for the next interrupt
//   (not taken while stepping), and the instruction after it runs.
import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { QEMU_BINARY, freePort, skipWithoutQemu } from '../support/qemu.js';
import { runGdb, skipWithoutGdb, startEmu, type Emu } from './support.js';

const BIOS = '/usr/share/seabios/bios.bin';
const haveBios = existsSync(BIOS);

let emu: Emu | null = null;
let qemu: ChildProcess | null = null;
afterEach(async () => {
  await emu?.close();
  if (qemu && qemu.exitCode === null) {
    const gone = new Promise((r) => qemu!.once('exit', r));
    qemu.kill('SIGKILL');
    await gone;
  }
  emu = null;
  qemu = null;
});

/** The linear address of SeaBIOS's 16-bit idle loop `sti; hlt; cli; cld; retl`: its HLT. */
function idleHlt(): number {
  const image = readFileSync(BIOS);
  const pattern = Buffer.from([0xfb, 0xf4, 0xfa, 0xfc, 0x66, 0xc3]);
  const at = image.indexOf(pattern);
  expect(at, 'the idle loop in bios.bin').toBeGreaterThan(0);
  expect(image.indexOf(pattern, at + 1)).toBe(-1);
  return 0x100000 - image.length + at + 1;
}

async function qemuListening(port: number): Promise<void> {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (readFileSync('/proc/net/tcp', 'utf8').split('\n').some((l) => l.includes(`0100007F${hex} `) && / 0A /.test(l))) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`nothing listens on port ${port}`);
}

/** What gdb printed after connecting, without the lines that name the stub. */
function session(out: string): string[] {
  return out.split('\n').filter((l) => /^(\$\d+ =|Program received|Breakpoint|Hardware|0x[0-9a-f]+ in )/.test(l));
}

describe.skipIf(skipWithoutGdb() || skipWithoutQemu() || !haveBios)('gdb in real mode: QEMU vs bmbt-dbg on SeaBIOS', () => {
  it('hbreak on a linear address with CS base 0xf0000 stops; stepi over HLT goes past it', async () => {
    const hlt = idleHlt();
    const commands = [
      'set architecture i8086',
      `hbreak *0x${hlt.toString(16)}`,
      'continue',
      'p/x $pc',
      'p/x $cs',
      'delete',
      'stepi',
      'p/x $pc',
      'stepi',
      'p/x $pc',
    ];
    const port = await freePort();
    qemu = spawn(QEMU_BINARY, ['-S', '-gdb', `tcp:127.0.0.1:${port}`, '-display', 'none', '-monitor', 'none', '-serial', 'none', '-nodefaults', '-bios', BIOS], { stdio: 'ignore' });
    emu = await startEmu(['--bios', BIOS]);
    await qemuListening(port);
    const [theirs, ours] = await Promise.all([
      runGdb(port, commands, { elf: null, timeoutMs: 30_000 }),
      runGdb(emu.port, commands, { elf: null, timeoutMs: 30_000 }),
    ]);
    const q = session(theirs.out);
    expect(q, theirs.out).toContain(`$1 = 0x${(hlt & 0xffff).toString(16)}`);
    expect(q).toContain('$2 = 0xf000');
    // HLT, then CLI after it: two bytes on.
    expect(q).toContain(`$3 = 0x${((hlt + 2) & 0xffff).toString(16)}`);
    expect(session(ours.out), ours.out).toEqual(q);
  }, 90_000);
});
