// End to end: the terminal UI and a real gdb (MI mode) on the same controller at the same
// time. A gdb breakpoint stops the UI; a pause from the UI stops gdb's `continue`.
import { afterAll, describe, expect, it } from 'vitest';
import { TmuxTerm, skipWithoutTmux } from './support/tmux.js';
import { MiGdb, skipWithoutGdb } from '../gdb/support.js';
import { join } from 'node:path';
import { REPO } from '../support/cli.js';

const terms: TmuxTerm[] = [];
const gdbs: MiGdb[] = [];
afterAll(async () => {
  for (const g of gdbs) await g.close();
  for (const t of terms) t.kill();
});

describe.skipIf(skipWithoutTmux() || skipWithoutGdb())('terminal UI with gdb attached', () => {
  it('a gdb breakpoint stops the UI and a UI pause stops gdb', async () => {
    const t = new TmuxTerm('gdb');
    terms.push(t);
    const elf = join(REPO, 'samples', 'build', 'echo.elf');
    t.start(['--ui', 'tui', '--gdb', '127.0.0.1:0', '--kernel', elf]);
    let s = await t.waitFor(/gdb listening :(\d+)/, 'the gdb server');
    const port = Number(/gdb listening :(\d+)/.exec(s)![1]);
    expect(s).toContain('paused at start');

    const gdb = await MiGdb.start(elf);
    gdbs.push(gdb);
    await gdb.cmd(`-target-select remote 127.0.0.1:${port}`);
    await t.waitFor(`gdb attached :${port}`, 'gdb attached in the status line');

    // gdb's breakpoint is the controller's: the UI lists it, and it stops the guest there.
    // (gdb inserts breakpoints only while the target runs, unless always-inserted.)
    await gdb.cmd('-gdb-set breakpoint always-inserted on');
    expect(await gdb.cmd('-break-insert *0x100c00')).toMatch(/\^done,bkpt=\{number="1".*addr="0x00100c00"/);
    t.keys('5');
    await t.waitFor(/1 +break +00100c00 +1 +gdb +<main>/, 'the gdb breakpoint in the UI');
    expect(await gdb.cmd('-exec-continue')).toMatch(/\^running/);
    expect(await gdb.stopped()).toMatch(/reason="breakpoint-hit".*addr="0x00100c00"/);
    s = await t.waitFor(/stopped .*breakpoint 1 at 0x00100c00 <main>/, 'the UI stopped at the gdb breakpoint');
    expect(s).toMatch(/eip 00100c00/);
    expect(s).toMatch(/●[ ┌[]▶ 00100c00/);

    // gdb continues; the guest runs (and idles, waiting for serial input) ...
    await gdb.cmd('-break-delete 1');
    expect(await gdb.cmd('-exec-continue')).toMatch(/\^running/);
    await t.waitFor(/● running/, 'the UI showing the guest running');
    // ... until the UI pauses it: gdb's continue ends with a stop.
    t.keys('p');
    const stop = await gdb.stopped();
    expect(stop).toMatch(/\*stopped,reason="signal-received",signal-name="SIGINT"|\*stopped,reason="signal-received"|\*stopped/);
    s = await t.waitFor('paused by ui', 'the UI paused');
    const eip = /eip ([0-9a-f]{8})/.exec(s)![1]!;
    expect(stop).toContain(`addr="0x${eip}"`);
    // Both see the same machine: gdb reads the EIP the UI shows.
    expect(await gdb.cmd('-data-evaluate-expression $pc')).toMatch(new RegExp(`value="0x${eip.replace(/^0+/, '')}`));

    await gdb.close();
    await t.waitFor(/gdb listening :\d+/, 'gdb detached in the status line');
    t.keys('q');
    await t.waitFor(() => t.dead(), 'exit', 15_000);
  });
});
