// `--ui tui` (the default on a terminal): the guest under the debugger controller, the
// terminal UI on it, and the gdb server on the same controller when --gdb is given. The
// guest's serial console goes to the UI's console pane, debugcon to its log. Ink and
// React are loaded only here, so headless runs never pay for them.
import type { CliOptions, Sink } from './options.js';
import { buildGuest, guestController } from './guest.js';
import { UiSession } from '../ui/model/ui-session.js';

/** stdio would draw over the UI: the console pane and the log take its place. */
export function uiSink(s: Sink): Sink {
  return s.kind === 'stdio' ? { kind: 'none' } : s;
}

/** Ink decides at import time whether it runs in CI (then it draws nothing until exit). */
export function forgetCi(): void {
  delete process.env['CI'];
  delete process.env['CONTINUOUS_INTEGRATION'];
}

export async function runTuiSession(opts: CliOptions): Promise<number> {
  // Ink, React and the UI load while the guest is built (their files are read meanwhile):
  // the first frame comes sooner.
  forgetCi();
  // React's development build keeps ~60 KB per frame alive (measured): a debugger left
  // running for an hour would grow by gigabytes. React picks its build when first loaded.
  process.env['NODE_ENV'] ??= 'production';
  const tui = import('../ui/run-tui.js');
  let session: UiSession | null = null;
  let debugconLine = '';
  const guest = buildGuest({ ...opts, serial: uiSink(opts.serial), debugcon: uiSink(opts.debugcon), debugcons: opts.debugcons.map((d) => ({ ...d, sink: uiSink(d.sink) })) }, {
    serial: (b) => session?.serialOutput(b),
    debugcon: (b) => {
      if (b !== 10) debugconLine += String.fromCharCode(b);
      else {
        session?.logQuiet(`debugcon: ${debugconLine}`);
        debugconLine = '';
      }
    },
  });
  const ctl = guestController(guest, {
    maxInsns: opts.maxInsns, noShutdown: opts.noShutdown,
    // Reverse execution (gdb's reverse-stepi, reverse-continue...) while a debugger is attached.
    historyBytes: opts.rrBudgetMiB * 1024 * 1024,
  });
  const flusher = setInterval(() => {
    guest.serial.flush();
    guest.debugcon.flush();
    guest.log?.flush();
  }, 50);

  let gdb: import('../gdbstub/server.js').GdbServer | null = null;
  if (opts.gdb) {
    const { startGdbServer } = await import('../gdbstub/server.js');
    // gdb's notes (connected, detached, the guest moved behind its back) on the message line.
    gdb = await startGdbServer(ctl, opts.gdb, { note: (m) => session?.log(`gdb: ${m}`) });
  }

  let quit: () => void = () => {};
  const quitted = new Promise<void>((r) => (quit = r));
  session = new UiSession(ctl, {
    guestName: guest.name,
    gdbStatus: () => (gdb ? `${gdb.attached ? 'attached' : 'listening'} :${gdb.port}` : null),
    onQuit: () => quit(),
  });
  if (gdb) session.logQuiet(`gdb server listening on ${gdb.host}:${gdb.port}`);
  const detach = session.attach();
  // gdb's `kill` ends the emulator, as it ends QEMU.
  const unsubscribe = ctl.subscribe((e) => {
    if (e.type === 'stop' && e.reason.kind === 'killed') session?.quit();
  });

  const { runTui } = await tui;
  if (!opts.startPaused) ctl.resume('start');
  try {
    await runTui(session, quitted);
  } finally {
    unsubscribe();
    detach();
    clearInterval(flusher);
    if (ctl.state === 'running') await ctl.pause('quit');
    await gdb?.close();
    guest.serial.flush();
    guest.debugcon.flush();
    guest.log?.flush();
    process.stdin.pause();
    process.stdin.unref?.();
  }
  const last = ctl.lastStop;
  return last.kind === 'exited' ? last.code & 0xff : 0;
}
