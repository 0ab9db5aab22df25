// Issue 16, with the real gdb: `continue` into an exception storm (a #UD vector pointing
// at a UD2: no instruction ever retires), then Ctrl-C (MI's -exec-interrupt sends gdb's
// interrupt byte), stops within 0.2 s and shows the faulting EIP.
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { MiGdb, REPO, skipWithoutGdb, startEmu, type Emu } from './support.js';

const STORM = join(REPO, 'tests/guests/build/stop-storm.img');
/** The UD2 every delivery lands on (tests/guests/stop/storm.asm). */
const HANDLER = 0x7c22;

let emu: Emu | null = null;
let mi: MiGdb | null = null;
afterEach(async () => {
  await mi?.close();
  await emu?.close();
  mi = null;
  emu = null;
});

describe.skipIf(skipWithoutGdb())('gdb against an exception storm', () => {
  it('continue, then Ctrl-C: stopped within 0.2 s at the faulting UD2', async () => {
    emu = await startEmu(['--boot-sector', STORM]);
    mi = await MiGdb.start(null);
    expect(await mi.cmd(`-target-select remote 127.0.0.1:${emu.port}`)).toMatch(/\^connected/);
    for (let round = 0; round < 3; round++) {
      expect(await mi.cmd('-exec-continue')).toMatch(/\^running/);
      await mi.waitLine(/^\*running/);
      await new Promise((r) => setTimeout(r, 300));
      const t0 = performance.now();
      expect(await mi.cmd('-exec-interrupt')).toMatch(/\^done/);
      const stop = await mi.stopped(5000);
      const took = performance.now() - t0;
      expect(stop).toMatch(/reason="signal-received",signal-name="SIGINT"/);
      expect(took).toBeLessThan(200);
      expect(stop).toMatch(new RegExp(`frame=\\{addr="0x0*${HANDLER.toString(16)}"`));
      expect(await mi.cmd('-data-evaluate-expression $pc')).toMatch(new RegExp(`value="0x${HANDLER.toString(16)}"`));
    }
  });
});
