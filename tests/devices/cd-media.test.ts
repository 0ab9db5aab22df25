// Media changes at run time, measured against QEMU 7.2: tests/guests/disk/media-probe.asm
// (booted from a hard disk) polls the CD-ROM drive (TEST UNIT READY, REQUEST SENSE, GET
// EVENT STATUS NOTIFICATION, READ CAPACITY, READ(10)) and floppy drive A (DIR's change
// line, SENSE DRIVE STATUS, seeks, READ ID, a sector by PIO) at each step, while the test
// runs `change` and `eject [-f]` in QEMU's HMP monitor and in ours. The serial output,
// the monitor's answers and `info block`'s medium and tray lines must be QEMU's.
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, createConnection, type Socket } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { QEMU_BINARY, skipWithoutQemu } from '../support/qemu.js';
import { assemble, skipWithoutNasm } from '../support/nasm.js';
import { BIOS, haveBios, scratchDir } from '../support/disk-images.js';
import { REPO } from '../support/cli.js';
import { guestMachine } from '../support/guest-machine.js';
import { DebugController } from '../../src/debug/controller.js';
import { runMonitorCommand } from '../../src/debug/monitor.js';
import { FileImage } from '../../src/block/file-image.js';
import { Recorder } from '../../src/replay/recorder.js';

/** What the test does at each of the probe's waits ("#N"): monitor commands, in order. */
function script(dir: string, emptyFloppy = false): string[][] {
  const f = (n: string) => join(dir, n);
  return [
    [`change ide1-cd0 ${f('cd-a.iso')} raw`, emptyFloppy ? `change floppy0 ${f('fd-a.img')} raw` : 'eject floppy0', 'info block'],
    ['eject ide1-cd0', `change floppy0 ${f('fd-b.img')} raw`, `change ide1-cd0 ${f('cd-b.iso')} raw`, 'info block'],
    ['eject -f ide1-cd0', 'info block'],
    [`change ide1-cd0 ${f('cd-b.iso')} raw`, 'info block'],
    ['eject ide1-cd0', 'eject ide0-hd0', `change ide1-cd1 ${f('cd-a.iso')}`, 'eject floppy0', 'info block'],
  ];
}

function makeImages(dir: string): void {
  const probe = new Uint8Array(1 << 20);
  probe.set(assemble(readFileSync(join(REPO, 'tests/guests/disk/media-probe.asm'), 'utf8')));
  writeFileSync(join(dir, 'probe.img'), probe);
  // Two "CDs" of different sizes and contents (READ CAPACITY, sector 16), two floppies.
  for (const [name, sectors, seed] of [['cd-a.iso', 300, 1], ['cd-b.iso', 500, 2]] as const) {
    const b = new Uint8Array(sectors * 2048);
    for (let i = 0; i < b.length; i++) b[i] = (i * seed + (i >> 11)) & 0xff;
    writeFileSync(join(dir, name), b);
  }
  for (const [name, seed] of [['fd-a.img', 3], ['fd-b.img', 5]] as const) {
    const b = new Uint8Array(1474560);
    // Every byte of sector n is (n + 1) * seed: sector 1's sum tells the floppies apart.
    for (let i = 0; i < b.length; i++) b[i] = (((i >> 9) + 1) * seed) & 0xff;
    writeFileSync(join(dir, name), b);
  }
}

function driveArgs(dir: string, emptyFloppy = false): string[] {
  return [
    '-drive', `file=${join(dir, 'probe.img')},format=raw,if=ide,index=0`,
    '-drive', 'if=ide,index=2,media=cdrom',
    '-drive', emptyFloppy ? 'if=floppy,index=0' : `file=${join(dir, 'fd-a.img')},format=raw,if=floppy,index=0`,
  ];
}

interface Run {
  serial: string;
  /** Per monitor command: its answer. */
  answers: string[];
}

/** The medium and tray lines of `info block` (QEMU's "Attached to" names a QOM path). */
function mediaLines(infoBlock: string): string[] {
  const out: string[] = [];
  for (const l of infoBlock.split('\n')) {
    const head = /^((?:ide|floppy)\S*?)(?: \(#block\d+\))?: (\S+)/.exec(l);
    if (head) out.push(`${head[1]}: ${head[2] === '[not' ? '[not inserted]' : head[2]!.replace(/.*\//, '')}`);
    else if (l.includes('Removable device:')) out.push(l.trim());
  }
  return out;
}

/** The text an answer means (QEMU prefixes errors with nothing or "Error: ", we with "error: "). */
function answerText(a: string): string {
  return a.replace(/^(error|Error): /i, '').trim();
}

/** QEMU's HMP over a UNIX socket: one command, its output up to the next prompt. */
class Hmp {
  private buf = '';
  private waiters: (() => void)[] = [];
  constructor(private readonly sock: Socket) {
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => {
      this.buf += d;
      for (const w of this.waiters.splice(0)) w();
    });
  }
  private async untilPrompt(timeoutMs = 20_000): Promise<string> {
    const end = Date.now() + timeoutMs;
    while (!this.buf.includes('(qemu) ')) {
      if (Date.now() > end) throw new Error(`no HMP prompt; got ${JSON.stringify(this.buf)}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 200);
      });
    }
    const at = this.buf.indexOf('(qemu) ');
    const out = this.buf.slice(0, at);
    this.buf = this.buf.slice(at + 7);
    return out;
  }
  async start(): Promise<void> {
    await this.untilPrompt();
  }
  async command(line: string): Promise<string> {
    this.sock.write(`${line}\n`);
    const out = (await this.untilPrompt()).replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').replace(/\r/g, '');
    // The echoed command line comes first.
    const nl = out.indexOf('\n');
    return nl < 0 ? '' : out.slice(nl + 1);
  }
}

async function runQemu(dir: string, emptyFloppy: boolean): Promise<Run> {
  const serSock = join(dir, 'ser.sock');
  const monSock = join(dir, 'mon.sock');
  let serial = '';
  const answers: string[] = [];
  // The test listens for the serial port: QEMU connects before the guest runs.
  let serialConn: Socket | null = null;
  const connected = new Promise<Socket>((resolve) => {
    const server = createServer((c) => {
      c.setEncoding('latin1');
      c.on('data', (d: string) => (serial += d));
      resolve(c);
      server.close();
    });
    server.listen(serSock);
  });
  await new Promise((r) => setTimeout(r, 100));
  const q: ChildProcess = spawn(QEMU_BINARY, [
    '-bios', BIOS, '-nodefaults', '-vga', 'std', '-display', 'none', '-m', '128',
    '-chardev', `socket,id=s0,path=${serSock}`, '-serial', 'chardev:s0',
    '-monitor', `unix:${monSock},server=on,wait=off`, '-device', 'isa-debug-exit,iobase=0xf4,iosize=4', ...driveArgs(dir, emptyFloppy),
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  q.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const closed = new Promise<void>((r) => q.on('close', () => r()));
  try {
    serialConn = await Promise.race([connected, closed.then(() => { throw new Error(`QEMU ended: ${stderr}`); })]);
    let mon: Socket | null = null;
    for (let i = 0; i < 50 && !mon; i++) {
      mon = await new Promise<Socket | null>((r) => {
        const c = createConnection(monSock);
        c.once('connect', () => r(c));
        c.once('error', () => r(null));
      });
      if (!mon) await new Promise((r) => setTimeout(r, 100));
    }
    if (!mon) throw new Error('no QEMU monitor');
    const hmp = new Hmp(mon);
    await hmp.start();
    const steps = script(dir, emptyFloppy);
    for (let n = 1; n <= steps.length; n++) {
      await waitFor(() => serial.includes(`#${n.toString(16).padStart(2, '0').toUpperCase()}`), `QEMU's guest at #${n}: ${serial}`);
      for (const c of steps[n - 1]!) answers.push(await hmp.command(c));
      serialConn.write('.');
    }
    await Promise.race([closed, new Promise((r) => setTimeout(r, 30_000))]);
    mon.destroy();
  } finally {
    q.kill('SIGKILL');
    serialConn?.destroy();
  }
  return { serial, answers };
}

async function waitFor(cond: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface OursRun extends Run {
  /** Whether fd-a.img could be locked for writing by someone else, before and after its eject. */
  fdaLockable: boolean[];
}

async function runOurs(dir: string, emptyFloppy: boolean): Promise<OursRun> {
  const g = guestMachine(['-bios', BIOS, '-nodefaults', '-vga', 'std', '-nographic', '-m', '128', '-device', 'isa-debug-exit,iobase=0xf4,iosize=4', ...driveArgs(dir, emptyFloppy)]);
  const m = g.pc;
  const ctl = new DebugController(m);
  const answers: string[] = [];
  const fdaLockable: boolean[] = [];
  const lockable = (): boolean => {
    try {
      FileImage.open(join(dir, 'fd-a.img'), { what: 'test', writable: true }).close();
      return true;
    } catch {
      return false;
    }
  };
  const steps = script(dir, emptyFloppy);
  const runUntil = (cond: () => boolean): void => {
    for (let i = 0; i < 4000 && !cond() && !m.poweredOff && m.exitCode === null; i++) m.run(2_000_000);
  };
  for (let n = 1; n <= steps.length; n++) {
    const mark = `#${n.toString(16).padStart(2, '0').toUpperCase()}`;
    runUntil(() => g.serialText().includes(mark));
    if (!g.serialText().includes(mark)) throw new Error(`our guest never got to ${mark}: ${g.serialText()}`);
    if (n === 1) fdaLockable.push(lockable());
    for (const c of steps[n - 1]!) answers.push(await runMonitorCommand(ctl, c));
    if (n === 1) fdaLockable.push(lockable());
    m.serialInput([0x2e]);
  }
  runUntil(() => g.serialText().includes('done'));
  for (const img of m.images()) img.backend.close();
  return { serial: g.serialText(), answers, fdaLockable };
}

const s = scratchDir('bmbt-media-');
afterAll(() => s.done());

describe.skipIf(skipWithoutQemu() || skipWithoutNasm() || !haveBios)('media change at run time (eject, change) against QEMU', () => {
  it('media-probe: the same ATAPI and floppy answers across change, eject, a locked tray and eject -f', async () => {
    makeImages(s.dir);
    const q = await runQemu(s.dir, false);
    const b = await runOurs(s.dir, false);
    const from = (t: string) => t.slice(t.indexOf('media-probe')).replace(/\r/g, '');
    expect(q.serial).toContain('done');
    // What the steps measured (QEMU's numbers): the two-step report of a new CD, a
    // locked tray's eject request, the floppy change line and each floppy's sector.
    expect(q.serial).toMatch(/#01\r\ncd:\r\n>00 41 03 20 \r\n>03 [^\n]*3A00[^\n]*\n>4A [^\n]* 0202 /);
    expect(q.serial).toMatch(/>25 41 03 60 \r\n>28 01 00 60 \r\n>03 [^\n]* 2800 /);
    expect(q.serial).toContain('0600 [00 00 00 00 00 01 02 ]');
    expect(q.serial).toContain('0A00 [00 00 00 00 00 01 02 ]');
    expect(from(b.serial)).toBe(from(q.serial));
    // The monitor: the same answers (errors in QEMU's words), the same media and trays.
    sameAnswers(script(s.dir).flat(), q, b);
    // The locked tray's refusal is QEMU's.
    expect(q.answers[3]).toContain("Device 'ide1-cd0' is locked and force was not specified, wait for tray to open and try again");
    expect(q.answers[5]).toContain("Device 'ide1-cd0' is locked and force was not specified, wait for tray to open and try again");
    expect(q.answers.slice(-4, -1).map(answerText)).toEqual(["Device 'ide0-hd0' is not removable", "Device 'ide1-cd1' not found", '']);
    // The ejected floppy image was closed: its lock is free again.
    expect(b.fdaLockable).toEqual([false, true]);
  }, 300_000);

  it('-drive if=floppy without a file: an empty drive until `change` (QEMU\'s 2.88 MB drive), then as before', async () => {
    makeImages(s.dir);
    const q = await runQemu(s.dir, true);
    const b = await runOurs(s.dir, true);
    const from = (t: string) => t.slice(t.indexOf('media-probe')).replace(/\r/g, '');
    expect(q.serial).toContain('done');
    expect(from(b.serial)).toBe(from(q.serial));
    sameAnswers(script(s.dir, true).flat(), q, b);
    expect(b.fdaLockable).toEqual([true, false]);
  }, 300_000);
});

function sameAnswers(steps: string[], q: Run, b: Run): void {
  steps.forEach((cmd, i) => {
    if (cmd === 'info block') expect(mediaLines(b.answers[i]!), cmd).toEqual(mediaLines(q.answers[i]!));
    else expect(answerText(b.answers[i]!), cmd).toBe(answerText(q.answers[i]!));
  });
}

/** QEMU's `info block` for a command line, through its monitor on stdin. */
function qemuInfoBlock(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const q = spawn(QEMU_BINARY, ['-nodefaults', '-display', 'none', '-S', '-monitor', 'stdio', ...args], { stdio: ['pipe', 'pipe', 'ignore'] });
    let out = '';
    q.stdout!.setEncoding('latin1').on('data', (d: string) => (out += d));
    q.on('error', reject);
    q.on('close', () => resolve(out.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').replace(/\r/g, '')));
    q.stdin!.end('info block\nquit\n');
  });
}

describe.skipIf(skipWithoutQemu())('an empty CD-ROM drive from the command line', () => {
  for (const args of [['-cdrom', ''], ['-drive', 'if=ide,index=2,media=cdrom']]) {
    it(`${args.join(' ')}: info block says [not inserted], tray closed, as QEMU`, async () => {
      const qemu = await qemuInfoBlock(args);
      const g = guestMachine(['-nodefaults', '-nographic', ...args]);
      const ours = await runMonitorCommand(new DebugController(g.pc), 'info block');
      expect(mediaLines(qemu)).toEqual(['ide1-cd0: [not inserted]', 'Removable device: not locked, tray closed']);
      expect(mediaLines(ours)).toEqual(mediaLines(qemu));
    });
  }
});

describe('a media change and the debugger\'s time travel', () => {
  it('a snapshot taken before a change cannot be loaded after it; one taken after can', async () => {
    const d = scratchDir('bmbt-media-');
    try {
      writeFileSync(join(d.dir, 'a.iso'), new Uint8Array(2048 * 20));
      const g = guestMachine(['-nodefaults', '-nographic', '-cdrom', join(d.dir, 'a.iso')]);
      const ctl = new DebugController(g.pc);
      expect(await runMonitorCommand(ctl, 'savevm before')).not.toMatch(/error/);
      expect(await runMonitorCommand(ctl, 'eject ide1-cd0')).toBe('');
      expect(await runMonitorCommand(ctl, 'loadvm before')).toMatch(/the medium in ide1-cd0 was changed after this snapshot/);
      expect(await runMonitorCommand(ctl, 'savevm after')).not.toMatch(/error/);
      expect(await runMonitorCommand(ctl, 'loadvm after')).not.toMatch(/error/);
      expect(await runMonitorCommand(ctl, `change ide1-cd0 ${join(d.dir, 'missing.iso')}`)).toMatch(/^error: change ide1-cd0 .*missing\.iso/);
      expect(await runMonitorCommand(ctl, 'eject')).toMatch(/usage: eject \[-f\] DEV/);
    } finally {
      d.done();
    }
  });
});

describe('a media change is an input from outside', () => {
  it('reverse execution starts again at the change; a recording refuses it in one line', async () => {
    const d = scratchDir('bmbt-media-');
    try {
      const iso = join(d.dir, 'a.iso');
      writeFileSync(iso, new Uint8Array(2048 * 20));
      const g = guestMachine(['-nodefaults', '-nographic', '-cdrom', iso]);
      const ctl = new DebugController(g.pc, { historyBytes: 64 << 20 });
      g.pc.run(2_000_000);
      expect(ctl.history()!.begin).toBe(0);
      expect(await runMonitorCommand(ctl, 'eject ide1-cd0')).toBe('');
      expect(ctl.history()!.begin).toBe(g.pc.cpu.icount);
      const r = guestMachine(['-nodefaults', '-nographic', '-cdrom', iso]);
      const rec = new Recorder(r.pc, join(d.dir, 'rec.bin'), 'test');
      const rctl = new DebugController(r.pc);
      expect(await runMonitorCommand(rctl, 'eject ide1-cd0')).toBe('error: a medium cannot change during --record or --replay (the log does not hold it)\n');
      expect(r.pc.drives[0]!.image).not.toBeNull();
      rec.finish('test');
    } finally {
      d.done();
    }
  });
});
