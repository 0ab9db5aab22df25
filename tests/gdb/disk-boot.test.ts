// The classic session: `-S -s -hda disk.img`, gdb attaches, `break *0x7c00`, `continue`
// stops in the MBR after SeaBIOS loaded it; the same commands against QEMU's stub and
// against bmbt-dbg give the same answers: with --gdb on a free port, and with the literal
// `-s` (port 1234) when that port is free.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import net from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { QEMU_BINARY, freePort, skipWithoutQemu } from '../support/qemu.js';
import { skipWithoutNasm } from '../support/nasm.js';
import { ataProbeImage, BIOS, haveBios, scratchDir } from '../support/disk-images.js';
import { runGdb, skipWithoutGdb, startEmu, type Emu } from './support.js';

let emu: Emu | null = null;
let qemu: ChildProcess | null = null;
const scratch = scratchDir('bmbt-gdb-disk-');
afterAll(() => scratch.done());
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

async function qemuListening(port: number): Promise<void> {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (readFileSync('/proc/net/tcp', 'utf8').split('\n').some((l) => l.includes(`0100007F${hex} `) && / 0A /.test(l))) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`nothing listens on port ${port}`);
}

const COMMANDS = ['set architecture i8086', 'break *0x7c00', 'continue', 'p/x $pc', 'p/x $cs', 'p/x $edx & 0xff', 'x/2xb 0x7dfe', 'p/x *(unsigned short *)0x7c00'];

/** The probe's disk twice (q for QEMU, b for us), and QEMU waiting under -S with its stub on a free port. */
async function imagesAndQemu(tag: string): Promise<{ b: string; port: number }> {
  const img = ataProbeImage();
  const q = join(scratch.dir, `q${tag}.img`);
  const b = join(scratch.dir, `b${tag}.img`);
  writeFileSync(q, img);
  writeFileSync(b, img);
  const port = await freePort();
  qemu = spawn(QEMU_BINARY, ['-S', '-gdb', `tcp:127.0.0.1:${port}`, '-nodefaults', '-vga', 'std', '-display', 'none', '-monitor', 'none', '-serial', 'none', '-bios', BIOS, '-hda', q], { stdio: 'ignore' });
  return { b, port };
}

const session = (out: string): string[] => out.split('\n').filter((l) => /^(\$\d+ =|Breakpoint \d+,|Breakpoint \d+ at)/.test(l));

describe.skipIf(skipWithoutGdb() || skipWithoutQemu() || skipWithoutNasm() || !haveBios)('gdb on a disk image: break *0x7c00', () => {
  it('continue stops in the MBR, with the boot drive in DL, as under QEMU', async () => {
    const { b, port } = await imagesAndQemu('');
    emu = await startEmu(['-S', '-hda', b, '-nographic']);
    await qemuListening(port);
    const [theirs, ours] = await Promise.all([
      runGdb(port, COMMANDS, { elf: null, timeoutMs: 60_000 }),
      runGdb(emu.port, COMMANDS, { elf: null, timeoutMs: 60_000 }),
    ]);
    const s = session(theirs.out);
    expect(s, theirs.out).toContain('$1 = 0x7c00');
    expect(s).toContain('$3 = 0x80');
    expect(session(ours.out), ours.out).toEqual(s);
  }, 120_000);

  it('the literal QEMU spelling, -S -s -hda disk.img: gdb on :1234 gets the same session', async (ctx) => {
    // Port 1234 is the machine's, not the test's: when something else holds it (another
    // run of this suite, a user's QEMU), this case is skipped, and says so.
    const skip1234 = (why: string): void => {
      console.warn(`[gdb] port 1234 ${why}: the -s case of disk-boot is skipped`);
      ctx.skip();
    };
    if (!(await portFree(1234))) return skip1234('is in use');
    const { b, port } = await imagesAndQemu('-s');
    try {
      emu = await startEmu(['-nographic', '-S', '-s', '-hda', b], { gdbArgs: [] });
    } catch (e) {
      // Taken between the check and our bind.
      if (/in use/.test(String(e))) return skip1234('was taken meanwhile');
      throw e;
    }
    expect(emu.port).toBe(1234);
    await qemuListening(port);
    const [theirs, ours] = await Promise.all([
      runGdb(port, COMMANDS, { elf: null, timeoutMs: 60_000 }),
      runGdb(1234, COMMANDS, { elf: null, timeoutMs: 60_000 }),
    ]);
    const s = session(theirs.out);
    expect(s, theirs.out).toContain('$1 = 0x7c00');
    expect(session(ours.out), ours.out).toEqual(s);
  }, 120_000);
});

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}
