// A real terminal for the end-to-end tests: bmbt-dbg runs in a detached tmux session on
// its own socket; tests type with send-keys and read the screen with capture-pane.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { REPO, BIN } from '../../support/cli.js';

export function haveTmux(): boolean {
  return spawnSync('tmux', ['-V'], { stdio: 'ignore' }).status === 0;
}

/** Skip where tmux is missing, except in CI (there a missing tmux must fail). */
export function skipWithoutTmux(): boolean {
  if (haveTmux() || process.env['CI']) return false;
  console.warn('[ui] tmux not found: terminal UI end-to-end tests are skipped (apt-get install tmux)');
  return true;
}

let serial = 0;

export class TmuxTerm {
  readonly socket: string;
  readonly stderrFile: string;
  /** The shell around bmbt-dbg writes its exit status here (tmux's own record is racy). */
  readonly statusFile: string;
  constructor(name: string) {
    this.socket = `bmbt-${name}-${process.pid}-${serial++}`;
    const dir = mkdtempSync(join(tmpdir(), 'bmbt-ui-'));
    this.stderrFile = join(dir, 'stderr.txt');
    this.statusFile = join(dir, 'status.txt');
  }

  private tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /** Run `bmbt-dbg ARGS` in a width × height terminal. CI's variables are dropped: Ink draws nothing under CI. */
  start(args: string[], opts: { width?: number; height?: number } = {}): void {
    const quoted = args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    const cmd = `cd '${REPO}' && env -u CI -u CONTINUOUS_INTEGRATION LANG=C.UTF-8 LC_ALL=C.UTF-8 '${process.execPath}' '${BIN}' ${quoted} 2>'${this.stderrFile}'; echo $? >'${this.statusFile}'`;
    this.tmux('-f', '/dev/null', 'new-session', '-d', '-s', 'main', '-x', String(opts.width ?? 120), '-y', String(opts.height ?? 40), cmd);
    try {
      this.tmux('set-option', '-t', 'main', 'remain-on-exit', 'on');
    } catch {
      /* the program may have exited already */
    }
  }

  /**
   * A shell in a width × height terminal (for what happens around bmbt-dbg: the scrollback
   * before it, the prompt after it). `runInShell` starts bmbt-dbg in it.
   */
  startShell(opts: { width?: number; height?: number } = {}): void {
    this.tmux('-f', '/dev/null', 'new-session', '-d', '-s', 'main', '-x', String(opts.width ?? 120), '-y', String(opts.height ?? 40), 'env -u CI -u CONTINUOUS_INTEGRATION LANG=C.UTF-8 LC_ALL=C.UTF-8 PS1="$ " bash --norc --noprofile');
  }

  runInShell(args: string[]): void {
    const quoted = args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    this.type(`cd '${REPO}' && '${process.execPath}' '${BIN}' ${quoted} 2>'${this.stderrFile}'; echo $? >'${this.statusFile}'`);
    this.keys('Enter');
  }

  /** Everything written to the terminal from now on goes to `file` as well (tmux pipe-pane). */
  pipeOutput(file: string): void {
    this.tmux('pipe-pane', '-t', 'main', '-o', `cat >> '${file}'`);
  }

  /** The screen and the scrollback above it. */
  history(): string {
    return this.tmux('capture-pane', '-p', '-S', '-', '-t', 'main');
  }

  /** tmux key names ('Enter', 'Escape', 'C-c') or characters. */
  keys(...keys: string[]): void {
    this.tmux('send-keys', '-t', 'main', ...keys);
  }

  /** Literal text (no key-name lookup). */
  type(text: string): void {
    this.tmux('send-keys', '-t', 'main', '-l', '--', text);
  }

  screen(): string {
    try {
      return this.tmux('capture-pane', '-p', '-t', 'main');
    } catch (e) {
      return `(no screen: ${(e as Error).message})`;
    }
  }

  /** Whether bmbt-dbg has exited. */
  dead(): boolean {
    return existsSync(this.statusFile) && readFileSync(this.statusFile, 'utf8').trim() !== '';
  }

  /** How it ended: `exit N` (128+N for signal N), or null while it runs. */
  deadStatus(): string | null {
    if (!this.dead()) return null;
    const code = Number(readFileSync(this.statusFile, 'utf8').trim());
    return code === 0 ? 'exit 0' : `exit ${code} (stderr: ${this.stderr().slice(0, 2000)})`;
  }

  stderr(): string {
    return existsSync(this.stderrFile) ? readFileSync(this.stderrFile, 'utf8') : '';
  }

  /**
   * The first frame: the status line. Starting Node, Ink and the guest takes 2-5 s on a
   * loaded 2-core machine; the wait ends as soon as the frame is there.
   */
  firstFrame(test: RegExp | string = / insns │/): Promise<string> {
    return this.waitFor(test, 'the first frame', 60_000);
  }

  /**
   * Poll the screen until `test` passes; the screen and stderr are in the error otherwise.
   * The budget only bounds a failure (the wait ends when the screen shows it): generous,
   * so a loaded machine does not fail a test that would pass.
   */
  async waitFor(test: RegExp | string | ((screen: string) => boolean), what?: string, timeoutMs = 30_000): Promise<string> {
    const pred = typeof test === 'function' ? test : typeof test === 'string' ? (s: string) => s.includes(test) : (s: string) => test.test(s);
    const t0 = Date.now();
    for (;;) {
      const s = this.screen();
      // A frame being drawn can be caught half-written: the screen must hold still too.
      if (pred(s)) {
        await new Promise((r) => setTimeout(r, 40));
        const again = this.screen();
        if (again === s) return s;
        continue;
      }
      if (Date.now() - t0 > timeoutMs) {
        throw new Error(`timed out waiting for ${what ?? String(test)}; screen:\n${s}\nstderr:\n${this.stderr()}`);
      }
      await new Promise((r) => setTimeout(r, 40));
    }
  }

  kill(): void {
    try {
      this.tmux('kill-server');
    } catch {
      /* already gone */
    }
    // tmux may leave its socket file behind.
    const uid = process.getuid?.() ?? 0;
    rmSync(join(process.env['TMUX_TMPDIR'] ?? '/tmp', `tmux-${uid}`, this.socket), { force: true });
    rmSync(dirname(this.stderrFile), { recursive: true, force: true });
  }
}

/** The value of register `name` as the registers pane shows it. */
export function regOnScreen(screen: string, name: string): number {
  const m = new RegExp(`\\b${name} ([0-9a-f]{8})\\b`).exec(screen);
  if (!m) throw new Error(`no ${name} on screen:\n${screen}`);
  return parseInt(m[1]!, 16);
}
