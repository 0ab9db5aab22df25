// The same gdb script (tests/gdb/compare.gdb) against QEMU's gdb stub and against
// bmbt-dbg on the buggy sample ends with the same registers and memory.
import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { QEMU_BINARY, freePort, qemuArgs, skipWithoutQemu } from '../support/qemu.js';
import { BUGGY, REPO, runGdb, skipWithoutGdb, startEmu, type Emu } from './support.js';

const SCRIPT = join(REPO, 'tests', 'gdb', 'compare.gdb');
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

/** Waits until something listens on 127.0.0.1:port (read from /proc, without connecting). */
async function listening(port: number, timeoutMs = 10_000): Promise<void> {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const table = readFileSync('/proc/net/tcp', 'utf8');
    if (table.split('\n').some((l) => l.includes(`0100007F${hex} `) && / 0A /.test(l))) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`nothing listens on port ${port}`);
}

/** The lines of the script's final dump that both stubs must agree on. */
function finalState(out: string): string[] {
  const start = out.lastIndexOf('REGS ');
  expect(start, out).toBeGreaterThan(0);
  return out.slice(start).split('\n').filter((l) => l.trim() !== '' && !/detached|Kill|killed/.test(l));
}

describe.skipIf(skipWithoutGdb() || skipWithoutQemu())('gdb script: QEMU vs bmbt-dbg', () => {
  it('compare.gdb ends with the same registers and memory on both', async () => {
    const port = await freePort();
    qemu = spawn(QEMU_BINARY, qemuArgs(port, { kernel: BUGGY }), { stdio: 'ignore' });
    emu = await startEmu(['--kernel', BUGGY]);
    await listening(port);
    const [theirs, ours] = await Promise.all([
      runGdb(port, [], { args: ['-x', SCRIPT], timeoutMs: 60_000 }),
      runGdb(emu.port, [], { args: ['-x', SCRIPT], timeoutMs: 60_000 }),
    ]);
    const q = finalState(theirs.out);
    const b = finalState(ours.out);
    expect(b).toEqual(q);
    // The session itself went the same way: same stops, values and frames.
    const events = (out: string) => out.split('\n').filter((l) => /^(Old value|New value|Value|Value returned|Breakpoint \d+,|Hardware|Run till)/.test(l));
    expect(events(ours.out)).toEqual(events(theirs.out));
    expect(ours.out).toContain('Value returned is $2 = 14750');
  }, 90_000);
});
