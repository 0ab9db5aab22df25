// The real gdb in MI mode: interrupting a running guest, detach and re-attach, exit.
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { BUGGY, MiGdb, REPO, skipWithoutGdb, startEmu, type Emu } from './support.js';

const ECHO = join(REPO, 'samples', 'build', 'echo.elf');
let emu: Emu | null = null;
let mi: MiGdb | null = null;

afterEach(async () => {
  await mi?.close();
  await emu?.close();
  mi = null;
  emu = null;
});

describe.skipIf(skipWithoutGdb())('gdb --interpreter=mi2 against bmbt-dbg', () => {
  it('-exec-interrupt stops a running guest; detach resumes it; re-attach works again and again', async () => {
    emu = await startEmu(['--kernel', ECHO]);
    mi = await MiGdb.start(ECHO);
    expect(await mi.cmd(`-target-select remote 127.0.0.1:${emu.port}`)).toMatch(/\^connected/);
    expect(await mi.cmd('-exec-continue')).toMatch(/\^running/);
    await mi.waitLine(/^\*running/);
    // The echo guest prints its prompt and sleeps in hlt waiting for serial input.
    for (let i = 0; i < 100 && !emu.stdout().includes('echo ready'); i++) await new Promise((r) => setTimeout(r, 20));
    expect(emu.stdout()).toContain('echo ready');
    expect(await mi.cmd('-exec-interrupt')).toMatch(/\^done/);
    const stop = await mi.stopped();
    expect(stop).toMatch(/reason="signal-received",signal-name="SIGINT"/);
    expect(await mi.cmd('-data-evaluate-expression $pc')).toMatch(/\^done,value="0x[0-9a-f]+ <main\+\d+>"/);

    for (let i = 0; i < 3; i++) {
      expect(await mi.cmd('-target-detach')).toMatch(/\^done/);
      expect(await mi.cmd(`-target-select remote 127.0.0.1:${emu.port}`)).toMatch(/\^connected/);
      expect(await mi.cmd('-data-evaluate-expression $eip')).toMatch(/\^done/);
    }
    expect(await mi.cmd('-target-detach')).toMatch(/\^done/);
    // Detached, the guest runs on and serves its input.
    emu.proc.stdin!.write('hi there\rq');
    expect(await emu.exited).toBe(1);
    expect(emu.stdout()).toBe('echo ready\r\nhi there\r\nq\r\nbye\r\n');
  });

  it('MI sees breakpoints, stepping and the guest exit with its code', async () => {
    emu = await startEmu(['--kernel', BUGGY]);
    mi = await MiGdb.start(BUGGY);
    expect(await mi.cmd(`-target-select remote 127.0.0.1:${emu.port}`)).toMatch(/\^connected/);
    expect(await mi.cmd('-break-insert find_item')).toMatch(/\^done,bkpt=\{number="1"/);
    await mi.cmd('-exec-continue');
    expect(await mi.stopped()).toMatch(/reason="breakpoint-hit".*func="find_item",args=\[\{name="id",value="101"\}\]/);
    await mi.cmd('-exec-step-instruction');
    expect(await mi.stopped()).toMatch(/reason="end-stepping-range"/);
    await mi.cmd('-exec-finish');
    expect(await mi.stopped()).toMatch(/reason="function-finished".*gdb-result-var="\$1",return-value="\(struct item \*\) 0x106280 <items>"/);
    await mi.cmd('-break-delete 1');
    await mi.cmd('-exec-continue');
    expect(await mi.stopped()).toMatch(/reason="exited",exit-code="03"/);
    expect(await emu.exited).toBe(3);
  });
});
