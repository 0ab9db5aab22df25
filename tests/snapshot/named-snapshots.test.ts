// savevm / loadvm / delvm / info snapshots in the monitor, the snapshot file
// (--snapshot-file, -loadvm) across processes, and the errors: a damaged or foreign file,
// a snapshot of another machine configuration. The running guest is never lost.
import { mkdtempSync, readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DebugController } from '../../src/debug/controller.js';
import { newMonitorSession, runMonitorCommand } from '../../src/debug/monitor.js';
import { namedSnapshots } from '../../src/snapshot/named-snapshots.js';
import { stateHash } from '../../src/snapshot/machine-snapshot.js';
import { FORMAT_VERSION, SNAPSHOT_MAGIC } from '../../src/snapshot/snapshot-file.js';
import { guestMachine, runTo } from '../support/guest-machine.js';
import { machineDiff } from '../support/state-diff.js';
import { runCli } from '../support/cli.js';

const HELLO = ['--kernel', 'samples/build/hello.elf'];

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'bmbt-snap-'));
}

function monitor(args = HELLO) {
  const g = guestMachine(args);
  const ctl = new DebugController(g.pc, { sliceInsns: 100_000 });
  const session = newMonitorSession();
  return { g, ctl, run: (line: string) => runMonitorCommand(ctl, line, session) };
}

describe('savevm / loadvm / delvm / info snapshots', () => {
  it('savevm then loadvm puts the machine back, and the guest runs on as it did', async () => {
    const { g, ctl, run } = monitor();
    await ctl.stepInstruction(3000);
    const at = g.pc.cpu.icount;
    const hash = stateHash(g.pc, { memory: true });
    expect(await run('savevm here')).toBe(`saved snapshot 'here' at instruction ${at}\n`);
    const outAt = g.serialText().length;
    await ctl.continue();
    const rest = g.serialText().slice(outAt);
    expect(rest).toContain('sum(1..1000) = 500500');
    expect(ctl.lastStop.kind).toBe('exited');
    const out = await run('loadvm here');
    expect(out).toMatch(new RegExp(`^loaded snapshot 'here': instruction ${at}, eip [0-9a-f]{8}\\n`));
    expect(stateHash(g.pc, { memory: true })).toBe(hash);
    // The guest exited; after a load it runs again from the snapshot, to the same end.
    await ctl.continue();
    expect(g.serialText().slice(outAt + rest.length)).toBe(rest);
  });

  it('info snapshots lists them as QEMU does, with the instruction count; savevm replaces a name; delvm deletes', async () => {
    const { ctl, run } = monitor();
    expect(await run('info snapshots')).toBe('There is no snapshot available.\n');
    await ctl.stepInstruction(100);
    await run('savevm first');
    await ctl.stepInstruction(100);
    await run('savevm second');
    await ctl.stepInstruction(100);
    await run('savevm first');
    const info = await run('info snapshots');
    const lines = info.split('\n');
    expect(lines[0]).toBe('List of snapshots present on all disks:');
    expect(lines[1]).toBe('ID        TAG               VM SIZE                DATE     VM CLOCK     ICOUNT');
    // ID, TAG, VM SIZE, DATE, VM CLOCK at QEMU 7.2's columns; ICOUNT filled in.
    // (a size wider than QEMU's 7 columns pushes the rest right, as QEMU's %7s does)
    expect(lines[2]).toMatch(/^-- {8}second {12} *[\d.]+ [KM]iB \d{4}-\d\d-\d\d \d\d:\d\d:\d\d 00:00:00\.000 +200$/);
    expect(lines[3]).toMatch(/^-- {8}first {13} *[\d.]+ [KM]iB \d{4}-\d\d-\d\d \d\d:\d\d:\d\d 00:00:00\.000 +300$/);
    expect(lines).toHaveLength(5);
    expect(await run('delvm second')).toBe("deleted snapshot 'second'\n");
    expect(await run('info snapshots')).not.toContain('second');
    expect(await run('delvm second')).toBe("error: Snapshot 'second' does not exist\n");
    expect(await run('loadvm nosuch')).toBe("error: Snapshot 'nosuch' does not exist\n");
    expect(await run('loadvm')).toBe('error: loadvm: a snapshot name is needed\n');
    expect(await run('savevm a b')).toBe('error: savevm: extraneous characters at the end of line\n');
    expect(await run('help')).toContain('savevm [NAME]');
  });

  it('savevm without a name uses QEMU\'s vm-DATE name', async () => {
    const { run } = monitor();
    expect(await run('savevm')).toMatch(/^saved snapshot 'vm-\d{14}' at instruction 0\n$/);
  });

  it('savevm and loadvm on a running guest stop it for the moment and let it run on', async () => {
    const { g, ctl, run } = monitor(['--kernel', 'samples/build/bench-intloop-timer.elf']);
    ctl.resume();
    await new Promise((r) => setTimeout(r, 20));
    expect(ctl.state).toBe('running');
    expect(await run('savevm live')).toMatch(/^saved snapshot 'live'/);
    expect(ctl.state).toBe('running');
    expect(await run('loadvm live')).toMatch(/^loaded snapshot 'live'/);
    expect(ctl.state).toBe('running');
    await ctl.pause();
    void g;
  });
});

describe('--snapshot-file: snapshots across processes', () => {
  it('a snapshot loaded in a fresh machine equals, field by field, a twin run straight to it', () => {
    const file = join(tmp(), 'snaps.bmbt');
    const a = guestMachine(['--kernel', 'samples/build/timer.elf']);
    namedSnapshots(a.pc).openFile(file);
    runTo(a.pc, 12_345);
    namedSnapshots(a.pc).save('mid');
    runTo(a.pc, 20_000);
    namedSnapshots(a.pc).save('later');
    expect(readFileSync(file).subarray(0, 8).toString('latin1')).toBe(SNAPSHOT_MAGIC);
    // No temporary file is left next to it.
    expect(readdirSync(join(file, '..'))).toEqual(['snaps.bmbt']);

    const fresh = guestMachine(['--kernel', 'samples/build/timer.elf']);
    const twin = guestMachine(['--kernel', 'samples/build/timer.elf']);
    runTo(twin.pc, 12_345);
    namedSnapshots(fresh.pc).openFile(file);
    expect(namedSnapshots(fresh.pc).entries().map((e) => e.name)).toEqual(['mid', 'later']);
    namedSnapshots(fresh.pc).load('mid');
    expect(machineDiff(fresh.pc, twin.pc)).toEqual([]);
    expect(stateHash(fresh.pc, { memory: true })).toBe(stateHash(twin.pc, { memory: true }));
    runTo(fresh.pc, 1e9);
    runTo(twin.pc, 1e9);
    expect(fresh.serialText()).toBe(twin.serialText().slice(twin.serialText().length - fresh.serialText().length));
    expect(machineDiff(fresh.pc, twin.pc)).toEqual([]);
  });

  it('bmbt-dbg -loadvm NAME in a new process runs on from the snapshot', async () => {
    const file = join(tmp(), 'hello.bmbt');
    const a = guestMachine(HELLO);
    namedSnapshots(a.pc).openFile(file);
    // After the greeting, before the computed line.
    runTo(a.pc, 2_000);
    const before = a.serialText();
    namedSnapshots(a.pc).save('greeted');
    runTo(a.pc, 1e9);
    const after = a.serialText().slice(before.length);
    expect(after).toContain('sum(1..1000)');
    const r = await runCli([...HELLO, '--snapshot-file', file, '-loadvm', 'greeted', '-nographic']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(after);
    expect(r.code).toBe(1);
  });

  it('errors: a damaged, truncated, foreign or newer file, an unknown name, another machine configuration', async () => {
    const dir = tmp();
    const file = join(dir, 'hello.bmbt');
    const a = guestMachine(HELLO);
    namedSnapshots(a.pc).openFile(file);
    runTo(a.pc, 2_000);
    namedSnapshots(a.pc).save('s');
    const good = readFileSync(file);
    const cases: [string, Buffer, RegExp][] = [
      ['damaged', Buffer.concat([good.subarray(0, 100), Buffer.from([good[100]! ^ 0xff]), good.subarray(101)]), /the snapshot file is damaged or truncated \(checksum mismatch\)$/],
      ['truncated', good.subarray(0, good.length - 1000), /damaged or truncated/],
      ['foreign', Buffer.from('not a snapshot at all'), /not a bmbt-dbg snapshot file$/],
      ['empty', Buffer.alloc(0), /not a bmbt-dbg snapshot file$/],
      ['newer', (() => { const b = Buffer.from(good); b.writeUInt32LE(FORMAT_VERSION + 1, 8); return b; })(), new RegExp(`format version ${FORMAT_VERSION + 1} is not supported \\(this bmbt-dbg reads version ${FORMAT_VERSION}\\)$`)],
    ];
    for (const [name, bytes, message] of cases) {
      const f = join(dir, `${name}.bmbt`);
      writeFileSync(f, bytes);
      const r = await runCli([...HELLO, '--snapshot-file', f, '-nographic']);
      expect(r.code, name).toBe(2);
      expect(r.stderr.trim().split('\n'), name).toHaveLength(1);
      expect(r.stderr.trim(), name).toMatch(new RegExp(`^bmbt-dbg: ${f.replace(/[.]/g, '\\.')}: .*`));
      expect(r.stderr.trim(), name).toMatch(message);
    }
    const unknown = await runCli([...HELLO, '--snapshot-file', file, '-loadvm', 'nosuch', '-nographic']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe(`bmbt-dbg: -loadvm: ${file} has no snapshot named 'nosuch'\n`);
    const other = await runCli([...HELLO, '-m', '64', '--snapshot-file', file, '-loadvm', 's', '-nographic']);
    expect(other.code).toBe(2);
    expect(other.stderr).toBe('bmbt-dbg: -loadvm s: the snapshot is of another machine configuration: ramMiB 128 (this machine: 64)\n');
    expect((await runCli([...HELLO, '-loadvm', 's'])).stderr).toBe('bmbt-dbg: -loadvm needs --snapshot-file FILE (where the snapshots are kept)\n');
  });

  it('loadvm of another machine\'s snapshot in the monitor is an error and the running guest is untouched', async () => {
    const file = join(tmp(), 'big.bmbt');
    const big = guestMachine([...HELLO, '-m', '64']);
    namedSnapshots(big.pc).openFile(file);
    namedSnapshots(big.pc).save('big');
    const { g, ctl, run } = monitor();
    await ctl.stepInstruction(500);
    namedSnapshots(g.pc).openFile(file);
    const hash = stateHash(g.pc, { memory: true });
    expect(await run('info snapshots')).toContain('(another machine configuration)');
    expect(await run('loadvm big')).toBe('error: the snapshot is of another machine configuration: ramMiB 64 (this machine: 128)\n');
    expect(stateHash(g.pc, { memory: true })).toBe(hash);
    await ctl.continue();
    expect(g.serialText()).toContain('fnv1a(0..255) = 90a458c5');
  });

  it('a snapshot file that cannot be written is an error and the snapshot list stays as it was', async () => {
    const dir = tmp();
    const { run } = monitor();
    const g2 = guestMachine(HELLO);
    namedSnapshots(g2.pc).openFile(join(dir, 'no-such-dir', 'x.bmbt'));
    const ctl2 = new DebugController(g2.pc);
    expect(await runMonitorCommand(ctl2, 'savevm x')).toMatch(/^error: .*no-such-dir\/x\.bmbt: cannot write the snapshot file \(ENOENT\)\n$/);
    expect(namedSnapshots(g2.pc).entries()).toEqual([]);
    expect(existsSync(join(dir, 'no-such-dir'))).toBe(false);
    void run;
  });
});
