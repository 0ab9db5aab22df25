// iPXE (Debian's ipxe.lkrn, a Linux-boot-protocol image) loaded by SeaBIOS through
// fw_cfg and linuxboot_dma.bin, on bmbt-dbg and on QEMU: it prints its banner on the VGA
// text screen, finds no network device, returns to the BIOS, which tries the disks and
// ends at "No bootable device.". The two screens are compared line by line at that
// moment (the known gaps of tests/corpus/linux-compare.ts apply; nothing is normalised
// but trailing blanks).
//
// iPXE writes only to the BIOS console, so the screen is what there is to compare:
// bmbt-dbg's is read from its VGA model, QEMU's from guest memory at 0xB8000 through the
// monitor's pmemsave. The run ends when SeaBIOS's debug log (port 0x402) says
// "No bootable device." on both.
import { beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCli } from '../../cli/options.js';
import { buildGuest } from '../../cli/main.js';
import { corpusOrReason, type Corpus } from './fetch.js';
import { QEMU_BIN } from './boot-run.js';
import { haveQemu } from '../support/qemu.js';
import { classify, diffLines, formatDiffs, KNOWN_GAPS } from './linux-compare.js';

const DONE = 'No bootable device.';
const BANNER = /^iPXE 1\.\d.* -- Open Source Network Boot Firmware -- http/;

const corpus = corpusOrReason();
const missing = typeof corpus === 'string' ? corpus : !haveQemu() ? `${QEMU_BIN} not installed` : null;
if (missing && !process.env['CI']) console.warn(`[corpus] iPXE test skipped: ${missing} (see .ci/run)`);

function screenLines(rows: readonly string[]): string[] {
  return rows.map((r) => `screen| ${r.replace(/\s+$/, '')}`);
}

function bootOurs(c: Corpus): { screen: string[]; log: string; icount: number } {
  let log = '';
  const opts = parseCli(['--bios', c.seabios.bios, '--kernel', c.ipxe.lkrn, '-m', '128', '--serial', 'none', '--ui', 'none']);
  if (opts === 'help' || opts === 'version') throw new Error('unexpected --help or --version');
  const guest = buildGuest(opts, {
    debugcon: (b) => (log += String.fromCharCode(b)),
  });
  const { pc: machine } = guest;
  // A bound on guest time, not wall time: QEMU gets there in about 3 s of guest time.
  while (!log.includes(DONE) && machine.cpu.icount < 20_000_000_000) {
    const stop = machine.run(5_000_000);
    if (stop.kind !== 'budget' && stop.kind !== 'idle') break;
  }
  return { screen: screenLines(machine.vga.textScreen().chars), log, icount: machine.cpu.icount };
}

function bootQemu(c: Corpus): Promise<{ screen: string[]; log: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'bmbt-ipxe-'));
  const logPath = join(dir, 'debug.log');
  const dump = join(dir, 'vga.bin');
  return new Promise((resolve, reject) => {
    const q = spawn(QEMU_BIN, [
      '-nodefaults', '-vga', 'std', '-nographic', '-serial', 'none', '-monitor', 'stdio', '-no-reboot', '-m', '128',
      '-bios', c.seabios.bios, '-kernel', c.ipxe.lkrn,
      '-chardev', `file,id=dbg,path=${logPath}`, '-device', 'isa-debugcon,iobase=0x402,chardev=dbg',
    ], { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    q.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const started = Date.now();
    let asked = false;
    const poll = setInterval(() => {
      const log = existsSync(logPath) ? readFileSync(logPath, 'latin1') : '';
      if (!asked && log.includes(DONE)) {
        asked = true;
        q.stdin.write(`pmemsave 0xb8000 4000 "${dump}"\nquit\n`);
      } else if (!asked && Date.now() - started > 60_000) {
        asked = true;
        q.kill('SIGKILL');
      }
    }, 50);
    q.on('error', (e) => {
      clearInterval(poll);
      reject(e);
    });
    q.on('close', () => {
      clearInterval(poll);
      const log = existsSync(logPath) ? readFileSync(logPath, 'latin1') : '';
      if (!existsSync(dump)) {
        rmSync(dir, { recursive: true, force: true });
        reject(new Error(`QEMU did not reach "${DONE}": ${log.slice(-300)} ${err}`));
        return;
      }
      const bytes = readFileSync(dump);
      const rows: string[] = [];
      for (let y = 0; y < 25; y++) {
        let r = '';
        for (let x = 0; x < 80; x++) {
          const ch = bytes[2 * (y * 80 + x)]!;
          r += ch >= 0x20 && ch < 0x7f ? String.fromCharCode(ch) : ' ';
        }
        rows.push(r);
      }
      rmSync(dir, { recursive: true, force: true });
      resolve({ screen: screenLines(rows), log });
    });
  });
}

describe.skipIf(missing !== null && !process.env['CI'])('iPXE (ipxe.lkrn) through SeaBIOS and linuxboot_dma.bin, against QEMU', () => {
  let ours: { screen: string[]; log: string; icount: number };
  let qemu: { screen: string[]; log: string };
  beforeAll(async () => {
    if (typeof corpus === 'string') throw new Error(`corpus: ${corpus}`);
    const q = bootQemu(corpus);
    ours = bootOurs(corpus);
    qemu = await q;
  }, 300_000);

  it('reaches the iPXE banner and "No bootable device." as QEMU does', () => {
    for (const s of [qemu.screen, ours.screen]) {
      expect(s.some((l) => BANNER.test(l.slice('screen| '.length)))).toBe(true);
      expect(s).toContain(`screen| ${DONE}`);
    }
    expect(ours.log).toContain(DONE);
  });

  it('shows the same screen as QEMU (known gaps aside)', () => {
    const { unexplained } = classify(diffLines(qemu.screen, ours.screen), 'ipxe');
    expect(formatDiffs(unexplained)).toBe('');
  });

  it('every known gap for iPXE still occurs (delete the entry when its fix lands)', () => {
    const { explained } = classify(diffLines(qemu.screen, ours.screen), 'ipxe');
    const stale = KNOWN_GAPS.filter((g) => g.paths.includes('ipxe') && explained.get(g.id)!.length === 0).map((g) => g.id);
    expect(stale).toEqual([]);
  });
});
