// npm run bench:ui: what the terminal UI costs. (1) Guest MIPS with the UI open versus
// headless: the `timer` sample (booted over and over: one run is ~27,000 instructions)
// and `intloop-timer` (400 M instructions with PIT interrupts), under the same debugger
// controller, the UI rendering with Ink into a 120×40 terminal. (2) Key-to-screen
// latency while the guest runs at full speed: from a key entering stdin to the frame that
// shows its effect, in process, and through a real terminal (tmux) when there is one.
// (3) Time to the first frame in tmux, from the bundle (scripts/bundle.mjs) and from the
// compiled files one by one. Prints numbers; asserts nothing.
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { tmpdir, loadavg, cpus } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PassThrough, Writable } from 'node:stream';
import { PcMachine } from '../src/machine/pc-machine.js';
import { loadMultiboot, enterFlatProtectedMode } from '../src/boot/multiboot.js';
import { DebugController } from '../src/debug/controller.js';
import { UiSession } from '../ui/model/ui-session.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(ROOT, 'bin', 'bmbt-dbg.js');

// Ink draws nothing when it believes it runs in CI; this is a terminal benchmark.
delete process.env['CI'];
delete process.env['CONTINUOUS_INTEGRATION'];
// As the real UI does (cli/tui-session.ts): React's production build.
process.env['NODE_ENV'] ??= 'production';

/** A guest that never stops: an ALU loop (inc, add, xor, rol, add, jmp) at 0x100000. */
const SPIN = Uint8Array.from([0x40, 0x01, 0xc3, 0x31, 0xd9, 0xd1, 0xc2, 0x01, 0xca, 0xeb, 0xf5]);

/** The bench owns the machine it measures (the UI sees it only through the controller). */
function boot(image: string, serial?: (b: number) => void): { ctl: DebugController; m: PcMachine } {
  const m = new PcMachine({ serial });
  const path = join(ROOT, image);
  const k = loadMultiboot(m.phys, m.cpu, readFileSync(path), { kernelName: path, cmdline: path, modules: [], ramSize: m.ramSize });
  return { ctl: new DebugController(m, { symbols: k.symbols }), m };
}

function bootSpin(): { ctl: DebugController; m: PcMachine } {
  const m = new PcMachine({});
  m.phys.load(0x100000, SPIN);
  enterFlatProtectedMode(m.phys, m.cpu, 0x100000);
  return { ctl: new DebugController(m), m };
}

/** A terminal for Ink: 120×40, output counted (and optionally watched), input injectable. */
class FakeTerminal {
  frames = 0;
  bytes = 0;
  watcher: ((chunk: string) => void) | null = null;
  readonly stdout: NodeJS.WriteStream;
  readonly stdin: NodeJS.ReadStream;
  constructor(columns = 120, rows = 40) {
    const self = this;
    const out = new Writable({
      write(chunk: Buffer | string, _enc, cb) {
        self.frames++;
        self.bytes += chunk.length;
        self.watcher?.(chunk.toString());
        cb();
      },
    });
    Object.assign(out, { isTTY: true, columns, rows });
    this.stdout = out as unknown as NodeJS.WriteStream;
    const input = new PassThrough();
    Object.assign(input, { isTTY: true, setRawMode: () => input, ref: () => input, unref: () => input });
    this.stdin = input as unknown as NodeJS.ReadStream;
  }
}

interface UiHandle {
  session: UiSession;
  term: FakeTerminal;
  close(): void;
}

async function openUi(ctl: DebugController, serialTap?: { fn: ((b: number) => void) | null }): Promise<UiHandle> {
  const React = (await import('react')).default;
  const { render } = await import('ink');
  const { Root } = await import('../ui/root.js');
  const term = new FakeTerminal();
  const session = new UiSession(ctl, { columns: 120, rows: 40, guestName: 'bench' });
  if (serialTap) serialTap.fn = (b) => session.serialOutput(b);
  session.attach();
  session.publishNow();
  const ink = render(React.createElement(Root, { session }), { stdout: term.stdout, stdin: term.stdin, exitOnCtrlC: false, patchConsole: false, maxFps: 60 });
  return {
    session,
    term,
    close: () => {
      ink.unmount();
      ink.cleanup();
      session.dispose();
    },
  };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

/**
 * Resolves once the frame of the stop is on the terminal: the session has published a
 * snapshot of the stopped machine and Ink has written since the stop (or after 300 ms).
 */
function stopFrameDrawn(ui: UiHandle, seqAtStop: number, framesAtStop: number): Promise<void> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const poll = (): void => {
      const snap = ui.session.getSnapshot();
      const drawn = snap.seq > seqAtStop && snap.status.state !== 'running' && ui.term.frames > framesAtStop;
      if (drawn || performance.now() - t0 > 300) resolve();
      else setTimeout(poll, 1);
    };
    poll();
  });
}

/** Between runs, as between a user's runs: long enough for the UI's stop frame (1/30 s). */
const GAP_MS = 50;

/**
 * MIPS of `image` run to its end under the controller, again and again for `repeatMs`
 * (reset and reloaded between runs, as a user re-running it would), with or without the
 * UI open on the same controller the whole time.
 */
async function mipsOf(image: string, withUi: boolean, repeatMs: number): Promise<{ mips: number; frames: number; runs: number; msPerRun: number }> {
  const tap: { fn: ((b: number) => void) | null } = { fn: null };
  const { ctl, m } = boot(image, (b) => tap.fn?.(b));
  const ui = withUi ? await openUi(ctl, tap) : null;
  const path = join(ROOT, image);
  const elf = readFileSync(path);
  let insns = 0;
  let ms = 0;
  let runs = 0;
  let seqAtStop = 0;
  let framesAtStop = 0;
  const frames0 = ui?.term.frames ?? 0;
  const t0 = performance.now();
  while (performance.now() - t0 < repeatMs || runs === 0) {
    if (runs > 0) {
      // The UI draws the stop after the guest stopped (within one frame interval): let it,
      // outside the timed run. Headless runs get the same pause, since a run after an idle
      // gap is slower (caches, CPU clock) and only the UI should make the difference.
      await new Promise((r) => setTimeout(r, GAP_MS));
      if (ui) await stopFrameDrawn(ui, seqAtStop, framesAtStop);
      await ctl.reset('bench');
      // machine.reset() leaves isa-debug-exit's latched status set: clear it by hand.
      m.exitCode = null;
      loadMultiboot(m.phys, m.cpu, elf, { kernelName: path, cmdline: path, modules: [], ramSize: m.ramSize });
    }
    const i0 = m.cpu.icount;
    const start = performance.now();
    const stop = await ctl.continue('bench');
    ms += performance.now() - start;
    seqAtStop = ui?.session.getSnapshot().seq ?? 0;
    framesAtStop = ui?.term.frames ?? 0;
    insns += m.cpu.icount - i0;
    if (stop.kind !== 'exited') throw new Error(`${image}: stopped with ${stop.kind}`);
    runs++;
  }
  // Let the frame for the last stop be drawn before counting.
  await new Promise((r) => setTimeout(r, 50));
  const frames = (ui?.term.frames ?? 0) - frames0;
  ui?.close();
  return { mips: insns / ms / 1000, frames, runs, msPerRun: ms / runs };
}

/**
 * The never-ending spin guest over `ms`, with the UI open (nothing typed) or not: its MIPS,
 * and the share of the wall time spent running guest code (machine.run) rather than
 * anything else; the difference between headless and UI open is what the UI takes, and
 * unlike MIPS it hardly depends on what else the machine is doing.
 */
async function spinMips(withUi: boolean, ms: number): Promise<{ mips: number; guestShare: number }> {
  const { ctl, m } = bootSpin();
  const ui = withUi ? await openUi(ctl) : null;
  const run = m.run.bind(m);
  let inRun = 0;
  m.run = (n, o) => {
    const t = performance.now();
    try {
      return run(n, o);
    } finally {
      inRun += performance.now() - t;
    }
  };
  ctl.resume('bench');
  await new Promise((r) => setTimeout(r, 500));
  const i0 = m.cpu.icount;
  inRun = 0;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  const dt = performance.now() - t0;
  const mips = (m.cpu.icount - i0) / dt / 1000;
  const guestShare = inRun / dt;
  await ctl.pause('bench');
  ui?.close();
  return { mips, guestShare };
}

/** Key-to-screen latency in process: key into stdin → first output containing `expect`. */
async function keyLatencyInProcess(samples: number): Promise<{ lat: number[]; mips: number }> {
  const { ctl } = bootSpin();
  const ui = await openUi(ctl);
  ctl.resume('bench');
  await new Promise((r) => setTimeout(r, 1500));
  const i0 = ctl.status().icount;
  const t0 = performance.now();
  const keys: [string, string][] = [['3', 'sort: execs'], ['4', 'following'], ['2', 'generated JavaScript'], ['7', 'nothing yet'], ['5', 'no breakpoints']];
  const lat: number[] = [];
  for (let i = 0; i < samples; i++) {
    const [key, expect] = keys[i % keys.length]!;
    const start = performance.now();
    const seen = new Promise<void>((resolve) => {
      ui.term.watcher = (chunk) => {
        if (chunk.includes(expect)) resolve();
      };
    });
    ui.term.stdin.write(key);
    await seen;
    lat.push(performance.now() - start);
    ui.term.watcher = null;
    await new Promise((r) => setTimeout(r, 50 + Math.random() * 50));
  }
  const mips = (ctl.status().icount - i0) / (performance.now() - t0) / 1000;
  await ctl.pause('bench');
  ui.close();
  return { lat, mips };
}

function haveTmux(): boolean {
  return spawnSync('tmux', ['-V'], { stdio: 'ignore' }).status === 0;
}

/** Key-to-screen latency through tmux (send-keys, then capture-pane until the change shows). */
async function keyLatencyTmux(samples: number): Promise<number[]> {
  const dir = mkdtempSync(join(tmpdir(), 'bmbt-uibench-'));
  const spin = join(dir, 'spin.bin');
  writeFileSync(spin, SPIN);
  const sock = `bmbt-uibench-${process.pid}`;
  const tmux = (...a: string[]): string => execFileSync('tmux', ['-L', sock, ...a], { encoding: 'utf8' });
  tmux('-f', '/dev/null', 'new-session', '-d', '-s', 'b', '-x', '120', '-y', '40',
    `exec env -u CI LANG=C.UTF-8 '${process.execPath}' '${BIN}' --ui tui --load '${spin}@0x100000' --entry 0x100000`);
  const screen = (): string => tmux('capture-pane', '-p', '-t', 'b');
  const waitFor = async (s: string): Promise<void> => {
    const t0 = performance.now();
    while (!screen().includes(s)) {
      if (performance.now() - t0 > 10_000) throw new Error(`tmux: no "${s}" on screen`);
      // Poll gently: on two cores, a busy poller starves the emulator and tmux itself.
      await new Promise((r) => setTimeout(r, 2));
    }
  };
  try {
    await waitFor('running');
    await new Promise((r) => setTimeout(r, 1000));
    const keys: [string, string][] = [['3', 'sort: execs'], ['4', 'following'], ['2', 'generated JavaScript'], ['7', 'nothing yet'], ['5', 'no breakpoints']];
    const lat: number[] = [];
    for (let i = 0; i < samples; i++) {
      const [key, expect] = keys[i % keys.length]!;
      const t0 = performance.now();
      tmux('send-keys', '-t', 'b', key);
      await waitFor(expect);
      lat.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 50 + Math.random() * 50));
    }
    return lat;
  } finally {
    try {
      tmux('kill-server');
    } catch {
      /* gone */
    }
    rmSync(join(process.env['TMUX_TMPDIR'] ?? '/tmp', `tmux-${process.getuid?.() ?? 0}`, sock), { force: true });
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * From starting `bmbt-dbg -S` in a 120x40 tmux window to the first frame (the status line
 * on screen): the median of `samples` starts, alternating bundle and compiled files.
 */
async function firstFrameTmux(samples: number): Promise<{ bundle: number[]; files: number[] }> {
  const sock = `bmbt-uibench-ff-${process.pid}`;
  const tmux = (...a: string[]): string => execFileSync('tmux', ['-L', sock, ...a], { encoding: 'utf8' });
  const out = { bundle: [] as number[], files: [] as number[] };
  try {
    for (let i = 0; i < 2 * samples; i++) {
      const files = i % 2 === 1;
      const t0 = performance.now();
      tmux('-f', '/dev/null', 'new-session', '-d', '-s', 'f', '-x', '120', '-y', '40',
        `exec env -u CI LANG=C.UTF-8 ${files ? 'BMBT_NO_BUNDLE=1 ' : ''}'${process.execPath}' '${BIN}' -S`);
      while (!/stopped|paused/.test(tmux('capture-pane', '-p', '-t', 'f'))) {
        if (performance.now() - t0 > 20_000) throw new Error('tmux: no first frame');
        await new Promise((r) => setTimeout(r, 5));
      }
      (files ? out.files : out.bundle).push(performance.now() - t0);
      tmux('kill-server');
    }
    return out;
  } finally {
    // (gone already unless a start failed)
    spawnSync('tmux', ['-L', sock, 'kill-server'], { stdio: 'ignore' });
    rmSync(join(process.env['TMUX_TMPDIR'] ?? '/tmp', `tmux-${process.getuid?.() ?? 0}`, sock), { force: true });
  }
}

function fmt(n: number, d = 1): string {
  return n.toFixed(d);
}

async function main(): Promise<void> {
  console.log('bmbt-dbg UI benchmark (guest MIPS headless vs UI open; key-to-screen latency)');
  console.log(`${cpus().length} CPUs, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} at start (other work on the machine shows in the numbers)\n`);
  console.log('guest MIPS under the debugger controller, UI rendering into a 120x40 terminal:');
  for (const [name, image, ms] of [['timer', 'samples/build/timer.elf', 2000], ['intloop-timer', 'samples/build/bench-intloop-timer.elf', 0]] as const) {
    const rounds = name === 'timer' ? 3 : 7;
    const headless: number[] = [];
    const ui: number[] = [];
    const perRun: [number[], number[]] = [[], []];
    let frames = 0;
    let runs = 0;
    // One of each first, to warm up V8 (the translator, Ink, React), not counted.
    await mipsOf(image, false, 0);
    await mipsOf(image, true, 0);
    for (let r = 0; r < rounds; r++) {
      const hh = await mipsOf(image, false, ms);
      headless.push(hh.mips);
      perRun[0].push(hh.msPerRun);
      const u = await mipsOf(image, true, ms);
      ui.push(u.mips);
      perRun[1].push(u.msPerRun);
      frames += u.frames;
      runs += u.runs;
    }
    const hm = median(headless);
    const um = median(ui);
    console.log(`  ${name.padEnd(14)} headless ${fmt(hm).padStart(8)} MIPS   UI open ${fmt(um).padStart(8)} MIPS   UI cost ${fmt((1 - um / hm) * 100)}%   (${runs} runs of ${fmt(median(perRun[0]), 2)} / ${fmt(median(perRun[1]), 2)} ms, ${frames} writes to the terminal)`);
  }
  const sh: number[] = [];
  const su: number[] = [];
  const gh: number[] = [];
  const gu: number[] = [];
  for (let r = 0; r < 3; r++) {
    const h = await spinMips(false, 2000);
    const u = await spinMips(true, 2000);
    sh.push(h.mips);
    su.push(u.mips);
    gh.push(h.guestShare);
    gu.push(u.guestShare);
  }
  const hm = median(sh);
  const um = median(su);
  console.log(`  ${'spin loop'.padEnd(14)} headless ${fmt(hm).padStart(8)} MIPS   UI open ${fmt(um).padStart(8)} MIPS   UI cost ${fmt((1 - um / hm) * 100)}%   (never stops; 3 x 2 s each)`);
  console.log(`  ${''.padEnd(14)} share of wall time in guest code: headless ${fmt(median(gh) * 100)}%, UI open ${fmt(median(gu) * 100)}% -> the UI takes ${fmt((median(gh) - median(gu)) * 100)}%`);
  const { lat, mips } = await keyLatencyInProcess(40);
  console.log(`  ${'spin + typing'.padEnd(14)} ${''.padStart(22)} UI open ${fmt(mips).padStart(8)} MIPS   UI cost ${fmt((1 - mips / hm) * 100)}%   (a key every 50-100 ms, each switching panes)`);
  console.log('\nkey-to-screen latency while the guest runs at full speed:');
  console.log(`  in process (key into stdin -> frame written): median ${fmt(median(lat))} ms, p95 ${fmt(pct(lat, 0.95))} ms, max ${fmt(Math.max(...lat))} ms (${lat.length} keys)`);
  if (haveTmux()) {
    const t = await keyLatencyTmux(30);
    console.log(`  through tmux (send-keys -> capture-pane shows it): median ${fmt(median(t))} ms, p95 ${fmt(pct(t, 0.95))} ms, max ${fmt(Math.max(...t))} ms (${t.length} keys; includes tmux's own latency)`);
  } else console.log('  through tmux: skipped (tmux is not installed)');
  if (haveTmux()) {
    const { bundle, files } = await firstFrameTmux(5);
    console.log('\nfirst frame in tmux (start `bmbt-dbg -S` -> status line on screen):');
    console.log(`  bundle ${fmt(median(bundle), 0)} ms, compiled files ${fmt(median(files), 0)} ms (medians of ${bundle.length}; BMBT_NO_BUNDLE=1 runs the files)`);
  }
  console.log(`\nload average ${loadavg().map((l) => l.toFixed(1)).join(' ')} at the end`);
  process.exit(0);
}

await main();
