// The one command language of the UI's command line and gdb's `monitor` (issue 11,
// defects 6 and 7): numbers as gdb reads them (0x hex, bare decimal, sym+off in the radix
// written), every displayed address typed back as shown (`<main+0xa>`), and data symbols
// named for data addresses (`watch total` said `<stack_top+704>`).
import { describe, expect, it } from 'vitest';
import { DebugController } from '../../src/debug/controller.js';
import { newCommandSession, parseAddress, runCommand } from '../../src/debug/commands.js';
import { runMonitorCommand } from '../../src/debug/monitor.js';
import { bootSample } from '../support/samples.js';
import { loadMultiboot } from '../../src/boot/multiboot.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../support/cli.js';
import { PcMachine } from '../../src/machine/pc-machine.js';

function buggy(): { ctl: DebugController; sym: (n: string) => number } {
  const m = new PcMachine({});
  const path = join(REPO, 'samples', 'build', 'buggy.elf');
  const k = loadMultiboot(m.phys, m.cpu, readFileSync(path), { kernelName: path, cmdline: path, modules: [], ramSize: m.ramSize });
  const ctl = new DebugController(m, { symbols: k.symbols });
  return { ctl, sym: (n) => ctl.lookupSymbol(n)! };
}

describe('command language', () => {
  it('sym+off in the radix written, and the answer shows the offset in hex, as typed back', async () => {
    const { ctl, sym } = buggy();
    const host = { session: newCommandSession() };
    const main = sym('main');
    expect(await runCommand(ctl, 'b main+10', host)).toBe(`Breakpoint 1 at 0x${(main + 10).toString(16).padStart(8, '0')} <main+0xa>\n`);
    expect(await runCommand(ctl, 'b main+0x10', host)).toBe(`Breakpoint 2 at 0x${(main + 16).toString(16).padStart(8, '0')} <main+0x10>\n`);
    // What a display says can be typed back and means the same address.
    const shown = /<(main\+0x10)>/.exec(await runCommand(ctl, 'info breakpoints', host))![1]!;
    expect(parseAddress(ctl, shown)).toBe(main + 16);
    // The UI's command line and gdb's monitor read the same way.
    expect(await runMonitorCommand(ctl, 'info tb main+10')).toBe(await runCommand(ctl, 'info tb main+10', host));
    expect(await runMonitorCommand(ctl, 'xp /1xb 16')).toMatch(/^00000010: /);
  });

  it('delete with a bad number among good ones deletes none of them (issue 16)', async () => {
    const { ctl } = buggy();
    const host = { session: newCommandSession() };
    await runCommand(ctl, 'b main', host);
    await runCommand(ctl, 'b main+1', host);
    expect(await runCommand(ctl, 'delete 1 x 2', host)).toMatch(/"x" is not a breakpoint number/);
    expect(ctl.breakpoints().map((b) => b.id)).toEqual([1, 2]);
    expect(await runCommand(ctl, 'delete 1 2', host)).toBe('deleted 1\ndeleted 2\n');
    expect(ctl.breakpoints()).toEqual([]);
  });

  it('a watchpoint on a data symbol is named by it', async () => {
    const { ctl, sym } = buggy();
    const host = { session: newCommandSession() };
    const total = sym('total');
    expect(await runCommand(ctl, 'watch total', host)).toBe(`Hardware watchpoint 1: 0x${total.toString(16).padStart(8, '0')} <total> (4 bytes)\n`);
    expect(await runCommand(ctl, 'awatch total+2 2', host)).toMatch(/Access watchpoint 2: 0x[0-9a-f]{8} <total\+0x2> \(2 bytes\)/);
    expect(await runCommand(ctl, 'info breakpoints', host)).toMatch(/#1 watch +[0-9a-f]{8} <total> len 4/);
  });

  it('the commands only a UI has say so under gdb', async () => {
    const g = bootSample('hello');
    const ctl = new DebugController(g.pc);
    expect(await runMonitorCommand(ctl, 'si')).toMatch(/^error: si: gdb steps with stepi/);
    expect(await runMonitorCommand(ctl, 'q')).toMatch(/^error: quit/);
    expect(await runMonitorCommand(ctl, 'x/2xb 0x10000c')).toBe('0010000c: fa fc\n');
  });
});
