// Which front end a run gets. Kept apart from cli/tui-session.ts so a headless run decides
// without loading the UI model, Ink or React (startup time).
import type { CliOptions } from './options.js';

export type UiChoice = 'none' | 'tui' | 'dashboard';

/**
 * The UI needs a terminal on both sides (keys in, frames out); when it was asked for and
 * there is none (CI, pipes), the run falls back to headless with a note.
 */
export function chooseUi(opts: CliOptions, io: { stdin: { isTTY?: boolean }; stdout: { isTTY?: boolean } } = process): UiChoice {
  const terminal = Boolean(io.stdin.isTTY) && Boolean(io.stdout.isTTY);
  const wanted = opts.command === 'dashboard' ? 'dashboard' : opts.ui;
  if (wanted === 'none') return 'none';
  if (wanted === 'auto') return terminal ? 'tui' : 'none';
  if (terminal) return wanted;
  process.stderr.write(`bmbt-dbg: ${wanted === 'dashboard' ? 'the dashboard' : '--ui tui'} needs a terminal (${io.stdout.isTTY ? 'stdin' : 'stdout'} is not one); running headless\n`);
  return 'none';
}
