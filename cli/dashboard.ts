// `bmbt-dbg dashboard` (or `--ui dashboard`): the guest runs under the debugger
// controller while a blessed-contrib dashboard shows its speed, the translator's work,
// the TB cache, IRQ rates, the hottest TBs and an event log (serial lines included).
// The gdb server runs on the same controller when --gdb is given.
import type { CliOptions } from './options.js';
import { buildGuest, guestController } from './guest.js';
import { uiSink } from './tui-session.js';
import { DashboardModel } from '../ui/dashboard/dashboard-model.js';

const REFRESH_MS = 500;

export async function runDashboard(opts: CliOptions): Promise<number> {
  const lines: string[] = [];
  let serialLine = '';
  const guest = buildGuest({ ...opts, serial: uiSink(opts.serial), debugcon: uiSink(opts.debugcon), debugcons: opts.debugcons.map((d) => ({ ...d, sink: uiSink(d.sink) })) }, {
    serial: (b) => {
      if (b === 10) {
        lines.push(`serial: ${serialLine}`);
        serialLine = '';
      } else if (b !== 13) serialLine += String.fromCharCode(b);
    },
  });
  const ctl = guestController(guest, { maxInsns: opts.maxInsns, noShutdown: opts.noShutdown });
  let gdb: import('../gdbstub/server.js').GdbServer | null = null;
  if (opts.gdb) {
    const { startGdbServer } = await import('../gdbstub/server.js');
    gdb = await startGdbServer(ctl, opts.gdb, { note: (m) => lines.push(`gdb: ${m}`) });
    lines.push(`gdb server listening on ${gdb.host}:${gdb.port}`);
  }
  const model = new DashboardModel(ctl);
  const { createDashboardView } = await import('../ui/dashboard/dashboard-view.js');
  let quit: () => void = () => {};
  const quitted = new Promise<void>((r) => (quit = r));
  const view = createDashboardView(model, {
    title: `bmbt-dbg dashboard: ${guest.name}`,
    onKey: (k) => {
      if (k === 'quit') quit();
      else if (k === 'continue') ctl.resume('dashboard');
      else void ctl.pause('dashboard');
    },
  });
  const refresh = (): void => {
    guest.serial.flush();
    guest.debugcon.flush();
    guest.log?.flush();
    view.update(model.sample(), [...model.drainLog(), ...lines.splice(0)]);
  };
  const timer = setInterval(refresh, REFRESH_MS);
  const onSignal = (): void => quit();
  const { hangUp } = await import('../ui/terminal.js');
  const onWriteError = (): void => {};
  process.stdout.on('error', onWriteError);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', hangUp);
  refresh();
  if (!opts.startPaused) ctl.resume('start');
  try {
    await quitted;
  } finally {
    clearInterval(timer);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', hangUp);
    view.destroy();
    model.dispose();
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
