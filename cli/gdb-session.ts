// `--gdb [HOST:]PORT` without the terminal UI: the machine runs under the debugger
// controller with the gdb server in front of it. The console goes where headless mode
// sends it; the guest waits at its first instruction unless --no-wait. The process ends
// when the guest exits (after gdb got its W packet) or when gdb kills it.
// BMBT_GDB_TRACE=1 in the environment logs every packet on stderr.
import type { CliOptions } from './options.js';
import { guestController, type Guest } from './guest.js';
import { startGdbServer } from '../gdbstub/server.js';
import { attachStdioConsole } from './stdio-console.js';
import { note, stopNote } from './headless.js';

const hex = (v: number): string => `0x${(v >>> 0).toString(16)}`;

export async function runGdbSession(guest: Guest, opts: CliOptions): Promise<number> {
  const ctl = guestController(guest, {
    maxInsns: opts.maxInsns, noShutdown: opts.noShutdown,
    // Reverse execution (gdb's reverse-stepi, reverse-continue...) while a debugger is attached.
    historyBytes: opts.rrBudgetMiB * 1024 * 1024,
  });
  const io = attachStdioConsole(ctl, guest, opts);

  let finish: (code: number) => void = () => {};
  const finished = new Promise<number>((r) => (finish = r));
  const unsubscribe = ctl.subscribe((e) => {
    if (e.type !== 'stop') return;
    const r = e.reason;
    if (r.kind === 'exited') {
      if (r.why) note(stopNote(ctl, r));
      finish(r.code & 0xff);
    } else if (r.kind === 'killed') finish(0);
    else if (r.kind === 'halted' || r.kind === 'triple-fault' || r.kind === 'shutdown' || r.kind === 'budget') note(stopNote(ctl, r));
  });

  // BMBT_GDB_TRACE=1 logs every packet (what gdb's `set debug remote 1` shows, from our side).
  const trace = process.env.BMBT_GDB_TRACE ? (dir: string, text: string) => note(`gdb ${dir} ${text}`) : undefined;
  const server = await startGdbServer(ctl, opts.gdb!, { note, ...(trace ? { trace } : {}) });
  const hostText = server.host.includes(':') ? `[${server.host}]` : server.host;
  // One write for all three lines: whoever waits for "listening" sees the rest with it.
  note([
    `gdb server listening on ${hostText}:${server.port}`,
    `attach with: gdb -ex 'target remote ${hostText}:${server.port}'${opts.kernel ? ` ${opts.kernel}` : ''}`,
    ...(opts.startPaused ? [`guest paused at ${hex(ctl.status().pc)}; waiting for gdb to resume it`] : []),
  ].join('\nbmbt-dbg: '));

  // Output written while the guest is stopped (gdb writes to the UART, a monitor command).
  const flusher = setInterval(() => io.flush(), 50);
  if (!opts.startPaused) ctl.resume('start');

  try {
    return await finished;
  } finally {
    unsubscribe();
    clearInterval(flusher);
    io.close();
    await server.close();
  }
}
