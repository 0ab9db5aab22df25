// Helpers for the gdb tests: start `bmbt-dbg --gdb` (built dist/) as a child process,
// run the real gdb in batch or MI mode against it, and clean every process up (on
// close, and at exit of the test worker whatever happens).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { REPO, BIN } from '../support/cli.js';

export { REPO, BIN };
export const GDB = process.env.GDB ?? 'gdb';
export const BUGGY = join(REPO, 'samples', 'build', 'buggy.elf');
export const HELLO = join(REPO, 'samples', 'build', 'hello.elf');

let gdbOk: boolean | undefined;
export function haveGdb(): boolean {
  if (gdbOk === undefined) gdbOk = spawnSync(GDB, ['--version'], { stdio: 'ignore', timeout: 10_000 }).status === 0;
  return gdbOk;
}

/** Skip gdb tests where gdb is missing, except in CI (there a missing gdb must fail). */
export function skipWithoutGdb(): boolean {
  if (haveGdb() || process.env.CI) return false;
  console.warn(`[gdb] ${GDB} not found: gdb tests are skipped (apt-get install gdb)`);
  return true;
}

const live = new Set<ChildProcess>();
let hook = false;
function track(p: ChildProcess): void {
  live.add(p);
  p.once('exit', () => live.delete(p));
  if (!hook) {
    hook = true;
    process.on('exit', () => {
      for (const c of live) {
        try {
          c.kill('SIGKILL');
        } catch {
          /* gone */
        }
      }
    });
  }
}

export interface Emu {
  proc: ChildProcess;
  port: number;
  host: string;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit status when the emulator ends. */
  exited: Promise<number | null>;
  /** Kills the emulator if still running. */
  close(): Promise<void>;
}

/**
 * Starts bmbt-dbg with `--gdb 127.0.0.1:0` (or the given gdb arguments) and waits for the
 * "listening on HOST:PORT" line.
 */
export async function startEmu(args: string[], opts: { gdbArgs?: string[]; timeoutMs?: number } = {}): Promise<Emu> {
  const gdbArgs = opts.gdbArgs ?? ['--gdb', '127.0.0.1:0'];
  const proc = spawn(process.execPath, [BIN, ...gdbArgs, '--ui', 'none', ...args], { cwd: REPO, stdio: ['pipe', 'pipe', 'pipe'] });
  track(proc);
  let out = '';
  let err = '';
  proc.stdout!.setEncoding('latin1').on('data', (d: string) => (out += d));
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  let done = false;
  void exited.then(() => (done = true));
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
  let m: RegExpExecArray | null = null;
  while (!(m = /listening on \[?([^\]\s]+?)\]?:(\d+)/.exec(err))) {
    if (done || Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`bmbt-dbg did not start its gdb server: ${err}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    proc,
    host: m[1]!,
    port: Number(m[2]),
    stdout: () => out,
    stderr: () => err,
    exited,
    close: async () => {
      if (done) return;
      proc.kill('SIGKILL');
      await exited;
    },
  };
}

export interface GdbResult {
  code: number | null;
  out: string;
}

/** gdb -nx -batch with `target remote` and the given commands (each an -ex). */
export function runGdb(port: number, commands: string[], opts: { elf?: string | null; timeoutMs?: number; args?: string[]; connect?: boolean } = {}): Promise<GdbResult> {
  const args = ['-nx', '-batch', '-ex', 'set pagination off', '-ex', 'set confirm off', '-ex', 'set width 0'];
  if (opts.connect !== false) args.push('-ex', `target remote 127.0.0.1:${port}`);
  for (const c of commands) args.push('-ex', c);
  args.push(...(opts.args ?? []));
  if (opts.elf !== null) args.push(opts.elf ?? BUGGY);
  return new Promise((resolve, reject) => {
    // One pipe for stdout and stderr: gdb writes monitor output and its own on both.
    const p = spawn('/bin/sh', ['-c', 'exec "$0" "$@" 2>&1', GDB, ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    track(p);
    let out = '';
    p.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    p.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
    const t = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`gdb timed out; output so far:\n${out}`));
    }, opts.timeoutMs ?? 30_000);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, out });
    });
  });
}

/** Values of `info registers` lines: name -> number. */
export function parseInfoRegisters(out: string): Map<string, number> {
  const regs = new Map<string, number>();
  for (const m of out.matchAll(/^(\w+)\s+0x([0-9a-f]+)\s/gm)) regs.set(m[1]!, parseInt(m[2]!, 16));
  return regs;
}

/** gdb in MI mode (`--interpreter=mi2`): send commands, wait for result and async records. */
export class MiGdb {
  private buf = '';
  private lines: string[] = [];
  private waiters: (() => void)[] = [];
  readonly transcript: string[] = [];
  private token = 100;

  private constructor(readonly proc: ChildProcess) {
    proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
      this.buf += d;
      let i: number;
      while ((i = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, i).replace(/\r$/, '');
        this.buf = this.buf.slice(i + 1);
        this.lines.push(line);
        this.transcript.push(line);
      }
      for (const w of this.waiters.splice(0)) w();
    });
    proc.stderr!.setEncoding('utf8').on('data', (d: string) => this.transcript.push(`[stderr] ${d}`));
  }

  /** `elf` null: no file (a boot sector); gdb takes the architecture from the target description. */
  static async start(elf: string | null = BUGGY): Promise<MiGdb> {
    const p = spawn(GDB, ['-nx', '--interpreter=mi2', '-q', ...(elf === null ? [] : [elf])], { cwd: REPO, stdio: ['pipe', 'pipe', 'pipe'] });
    track(p);
    const mi = new MiGdb(p);
    await mi.waitLine(/^\(gdb\)/, 15_000);
    await mi.cmd('-gdb-set pagination off');
    await mi.cmd('-gdb-set confirm off');
    // Commands (-exec-interrupt) are served while the target runs only in async mode.
    await mi.cmd('-gdb-set mi-async on');
    return mi;
  }

  /** Waits for a line matching re (consuming lines up to it); returns the line. */
  async waitLine(re: RegExp, timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.lines.findIndex((l) => re.test(l));
      if (i >= 0) {
        const line = this.lines[i]!;
        this.lines.splice(0, i + 1);
        return line;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`MI: no line matching ${re} within ${timeoutMs} ms; transcript:\n${this.transcript.slice(-25).join('\n')}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /** Sends a command with a token; resolves with its ^done/^running/^connected/^error record. */
  async cmd(command: string, timeoutMs = 10_000): Promise<string> {
    const tok = this.token++;
    this.proc.stdin!.write(`${tok}${command}\n`);
    return this.waitLine(new RegExp(`^${tok}\\^(done|running|connected|error|exit)`), timeoutMs);
  }

  /** Waits for the next *stopped record. */
  stopped(timeoutMs = 10_000): Promise<string> {
    return this.waitLine(/^\*stopped/, timeoutMs);
  }

  /** The console output (~"...") since the last call. */
  console(): string {
    return this.transcript.filter((l) => l.startsWith('~')).map((l) => JSON.parse(l.slice(1)) as string).join('');
  }

  async close(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = new Promise((r) => this.proc.once('exit', r));
    try {
      this.proc.stdin!.write('-gdb-exit\n');
    } catch {
      /* closed */
    }
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(t);
  }
}
