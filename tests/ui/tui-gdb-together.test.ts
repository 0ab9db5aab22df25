// End to end: the terminal UI and a real gdb (MI mode, breakpoints inserted only while
// the guest runs, gdb's default) on one machine (issue 11, defects 13 and 15):
// - a gdb breakpoint keeps one number in the UI across continues, and is listed in the
//   Breakpoints pane and by `monitor info breakpoints` while gdb is stopped (gdb takes
//   its breakpoints out at every stop: they used to vanish, and come back renumbered);
// - a step from the UI while gdb is stopped says that gdb's registers are stale (gdb
//   reads nothing it did not ask for in all-stop mode, so it cannot be told);
// - gdb's `kill` ends the emulator, UI and all.
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { TmuxTerm, skipWithoutTmux } from './support/tmux.js';
import { MiGdb, skipWithoutGdb } from '../gdb/support.js';
import { REPO } from '../support/cli.js';

const terms: TmuxTerm[] = [];
const gdbs: MiGdb[] = [];
afterAll(async () => {
  for (const g of gdbs) await g.close();
  for (const t of terms) t.kill();
});

describe.skipIf(skipWithoutTmux() || skipWithoutGdb())('terminal UI and gdb on one machine', () => {
  it('gdb breakpoints keep their number and stay listed while gdb is stopped; UI steps are noted; gdb kill ends it all', async () => {
    const t = new TmuxTerm('gdbtogether');
    terms.push(t);
    const elf = join(REPO, 'samples', 'build', 'timer.elf');
    t.start(['--ui', 'tui', '--gdb', '127.0.0.1:0', '-S', '--kernel', elf]);
    let s = await t.waitFor(/gdb listening :(\d+)/, 'the gdb server', 30_000);
    const port = Number(/gdb listening :(\d+)/.exec(s)![1]);
    const gdb = await MiGdb.start(elf);
    gdbs.push(gdb);
    await gdb.cmd(`-target-select remote 127.0.0.1:${port}`);
    expect(await gdb.cmd('-break-insert timer_irq')).toMatch(/\^done,bkpt=\{number="1"/);
    t.keys('5');
    // Two ticks: the breakpoint is hit twice, with one number in the UI throughout.
    let ids = new Set<string>();
    for (let i = 0; i < 2; i++) {
      expect(await gdb.cmd('-exec-continue')).toMatch(/\^running/);
      expect(await gdb.stopped()).toMatch(/reason="breakpoint-hit"/);
      s = await t.waitFor(/stopped .*breakpoint \d+ at 0x[0-9a-f]{8} <timer_irq>/, 'the UI stopped at the gdb breakpoint');
      ids.add(/breakpoint (\d+) at/.exec(s)![1]!);
      // gdb is stopped and has taken its breakpoint out: still listed.
      s = await t.waitFor(/\d+ +break +[0-9a-f]{8} +\d+ +gdb +<timer_irq>/, 'the gdb breakpoint in the pane while gdb is stopped');
      ids.add(/(\d+) +break +[0-9a-f]{8} +\d+ +gdb/.exec(s)![1]!);
    }
    expect(ids.size).toBe(1);
    expect(await gdb.cmd('-interpreter-exec console "monitor info breakpoints"')).toMatch(/\^done/);
    // Monitor output comes as target-stream records (@"...").
    const monitor = gdb.transcript.filter((l) => l.startsWith('@')).map((l) => JSON.parse(l.slice(1)) as string).join('');
    expect(monitor).toMatch(new RegExp(`#?${[...ids][0]} +break.*<timer_irq`));

    // A step from the UI: the UI says gdb has not seen it.
    t.keys('s');
    await t.waitFor(/gdb: the guest moved while gdb was stopped/, 'the notice');

    // gdb's kill ends the emulator.
    await gdb.cmd('-interpreter-exec console "kill"');
    await t.waitFor(() => t.dead(), 'the emulator to exit', 10_000);
    expect(t.deadStatus()).toBe('exit 0');
  });
});
