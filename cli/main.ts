// bmbt-dbg entry point: parse options, build the guest (cli/guest.ts), run it headless, under
// the gdb server or in the terminal UI. User errors end as one line and status 2.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { parseCli } from './options.js';
import { UserError } from '../src/user-error.js';
import { cpuModelHelp } from '../src/cpu/cpu-models.js';
import { buildGuest } from './guest.js';
import { runHeadless } from './headless.js';
import { runGdbSession } from './gdb-session.js';
import { chooseUi } from './ui-choice.js';

export { buildGuest, DEFAULT_GUEST, type Guest, type GuestTaps } from './guest.js';

const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export async function main(argv: string[]): Promise<number> {
  const opts = parseCli(argv);
  if (opts === 'help') return 0;
  if (opts === 'version') {
    const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string };
    process.stdout.write(`bmbt-dbg ${pkg.version} (an x86-32 PC, QEMU 7.2's command line)\n`);
    return 0;
  }
  if (opts.cpuModel === 'help') {
    process.stdout.write(cpuModelHelp());
    return 0;
  }
  // The terminal UI and the dashboard, when there is a terminal for them (cli/tui-session.ts).
  const ui = chooseUi(opts);
  if (ui === 'tui') return (await import('./tui-session.js')).runTuiSession(opts);
  if (ui === 'dashboard') return (await import('./dashboard.js')).runDashboard(opts);
  const guest = buildGuest(opts);
  // --gdb without the terminal UI: the gdb server on the debugger controller.
  if (opts.gdb) return runGdbSession(guest, opts);
  return runHeadless(guest, opts);
}

export async function runCli(argv: string[]): Promise<void> {
  try {
    process.exitCode = await main(argv);
  } catch (e) {
    if (e instanceof UserError) {
      process.stderr.write(`bmbt-dbg: ${e.message}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`bmbt-dbg: internal error: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 70;
  }
}
