// The monitor's reverse-execution commands (gdb's `monitor ...`, the terminal UI's
// command line): goto ICOUNT back and forward, reverse-stepi N, reverse-continue, info
// history; and what they say without history.
import { describe, expect, it } from 'vitest';
import { bootSample } from '../support/samples.js';
import { DebugController } from '../../src/debug/controller.js';
import { newMonitorSession, runMonitorCommand } from '../../src/debug/monitor.js';
import { enableHistory } from '../../src/replay/history.js';
import { stateHash } from '../../src/snapshot/machine-snapshot.js';
import type { PcMachine } from '../../src/machine/pc-machine.js';

function setup(history = true) {
  const g = bootSample('timer');
  const ctl = new DebugController(g.pc, { sliceInsns: 20_000 });
  if (history) enableHistory(g.pc, 64 << 20);
  const session = newMonitorSession();
  return { g, m: g.pc, ctl, run: (l: string) => runMonitorCommand(ctl, l, session) };
}

function twinAt(icount: number): PcMachine {
  const t = bootSample('timer').pc;
  while (t.cpu.icount < icount) if (t.run(icount - t.cpu.icount).kind !== 'budget') break;
  return t;
}

describe('monitor: goto, reverse-stepi, reverse-continue, info history', () => {
  it('goto ICOUNT goes back and forward to exactly where a straight run is at that count', async () => {
    const { m, ctl, run } = setup();
    await ctl.continue();
    const end = m.cpu.icount;
    expect(await run('goto 12000')).toMatch(/^instruction 12000, eip [0-9a-f]{8} \(in the past; the present is at \d+\)\n/);
    expect(stateHash(m, { memory: true })).toBe(stateHash(twinAt(12000), { memory: true }));
    expect(await run('goto 20000')).toMatch(/^instruction 20000, /);
    expect(stateHash(m, { memory: true })).toBe(stateHash(twinAt(20000), { memory: true }));
    expect(await run('rsi 3')).toMatch(/^instruction 19997, /);
    expect(await run('info history')).toMatch(new RegExp(`^history from instruction 0 to ${end} \\(in the past, at 19997\\)\\ncheckpoints: \\d+ kept`));
    expect(await run('reverse-continue')).toMatch(/^no hit: history begins at instruction 0, /);
    expect(ctl.lastStop.kind).toBe('history-begin');
    expect(await run('rsi')).toMatch(/^no more history: instruction 0/);
    expect(await run('goto 1e3')).toBe('error: goto: "1e3" is not an instruction count\n');
    expect(await run('help')).toContain('goto ICOUNT');
  });

  it('without history (recording or replaying) the commands say so', async () => {
    const { run } = setup(false);
    expect(await run('rsi')).toBe('error: no history to travel in (reverse execution is off while recording or replaying)\n');
    expect(await run('info history')).toBe('no history (reverse execution is off while recording or replaying)\n');
  });
});

describe('history and snapshots', () => {
  it('loadvm starts history again at the loaded state', async () => {
    const { m, ctl, run } = setup();
    await ctl.stepInstruction(1000);
    expect(await run('savevm a')).toMatch(/^saved snapshot 'a' at instruction 1000/);
    await ctl.stepInstruction(500);
    expect(await run('loadvm a')).toMatch(/^loaded snapshot 'a'/);
    await ctl.stepInstruction(10);
    expect(await run('reverse-continue')).toMatch(/^no hit: history begins at instruction 1000, /);
    expect(m.cpu.icount).toBe(1000);
  });
});
