// The command line around the gdb server: --gdb [HOST:]PORT, -s, -S, --no-wait.
import { afterEach, describe, expect, it } from 'vitest';
import * as net from 'node:net';
import { join } from 'node:path';
import { RspClient } from '../support/rsp-client.js';
import { runCli } from '../support/cli.js';
import { BUGGY, HELLO, REPO, runGdb, skipWithoutGdb, startEmu, type Emu } from './support.js';

const ECHO = join(REPO, 'samples', 'build', 'echo.elf');
let emu: Emu | null = null;
const clients: RspClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await emu?.close();
  emu = null;
});

async function attach(port: number): Promise<RspClient> {
  const c = await RspClient.connect(port, '127.0.0.1');
  clients.push(c);
  await c.qSupported();
  return c;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

describe('bmbt-dbg --gdb on the command line', () => {
  it('--gdb PORT binds 127.0.0.1 and waits at the first instruction; detach lets the guest finish', async () => {
    emu = await startEmu(['--kernel', BUGGY], { gdbArgs: ['--gdb', '0'] });
    expect(emu.host).toBe('127.0.0.1');
    expect(emu.stderr()).toMatch(/guest paused at 0x10000c; waiting for gdb/);
    await new Promise((r) => setTimeout(r, 200));
    expect(emu.stdout()).toBe('');
    const c = await attach(emu.port);
    expect((await c.readRegisters()).eip).toBe(0x10000c);
    await c.detach();
    expect(await emu.exited).toBe(3);
    expect(emu.stdout()).toContain('buggy: sum = 14784');
  });

  it('--no-wait runs the guest at once; attaching stops it', async () => {
    emu = await startEmu(['--kernel', ECHO, '--no-wait']);
    for (let i = 0; i < 100 && !emu.stdout().includes('echo ready'); i++) await new Promise((r) => setTimeout(r, 20));
    expect(emu.stdout()).toContain('echo ready');
    const c = await attach(emu.port);
    expect(await c.request('?')).toMatch(/^T05/);
    expect((await c.readRegisters()).eip).not.toBe(0x10000c);
    await c.detach();
    emu.proc.stdin!.write('q');
    expect(await emu.exited).toBe(1);
  });

  it('--no-wait with a guest that exits and no debugger: the emulator exits with its status', async () => {
    emu = await startEmu(['--kernel', HELLO, '--no-wait']);
    expect(await emu.exited).toBe(1);
    expect(emu.stdout()).toContain('Hello from bmbt-dbg!');
  });

  it('-s -S is QEMU\'s spelling of --gdb 1234, paused', async (ctx) => {
    if (!(await portFree(1234))) ctx.skip();
    emu = await startEmu(['--kernel', BUGGY], { gdbArgs: ['-s', '-S'] });
    expect(emu.port).toBe(1234);
    expect(emu.host).toBe('127.0.0.1');
    const c = await attach(1234);
    expect((await c.readRegisters()).eip).toBe(0x10000c);
    await c.kill();
    expect(await emu.exited).toBe(0);
  });

  it('another host must be asked for; a port in use is a one-line error', async () => {
    emu = await startEmu(['--kernel', BUGGY], { gdbArgs: ['--gdb', '0.0.0.0:0'] });
    expect(emu.host).toBe('0.0.0.0');
    const r = await runCli(['--gdb', `127.0.0.1:${emu.port}`, '--kernel', BUGGY, '--ui', 'none'], { timeoutMs: 20_000 });
    // The first emulator listens on all interfaces: 127.0.0.1:PORT is taken.
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^bmbt-dbg: --gdb: cannot listen on 127\.0\.0\.1:\d+: the address is in use \(another program listens there\)$/)]);
  });

  it.skipIf(skipWithoutGdb())('a second gdb is refused with a clear message while the first session goes on', async () => {
    emu = await startEmu(['--kernel', BUGGY]);
    const first = runGdb(emu.port, ['stepi', 'shell sleep 1.5', 'stepi', 'printf "PC %x\\n", $pc', 'kill']);
    await new Promise((r) => setTimeout(r, 700));
    const second = await runGdb(emu.port, ['info registers eip']);
    expect(second.out).toContain('Remote failure reply: E.bmbt-dbg: another debugger is already attached to this machine; detach it first');
    const r = await first;
    expect(r.out).toMatch(/^PC 10000e$/m);
    expect(r.out).toContain('[Inferior 1 (process 1) killed]');
    expect(emu.stderr()).toMatch(/refused a second gdb connection from 127\.0\.0\.1:\d+: one debugger at a time/);
  });
});
