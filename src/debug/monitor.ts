// gdb's `monitor ...` (qRcmd): the debugger's command language (commands.ts) on the
// controller, with the commands that only a front end with panes has left out.
import type { DebugTarget } from './target.js';
import { newCommandSession, runCommand, type CommandSession } from './commands.js';

export type MonitorSession = CommandSession;
export const newMonitorSession = newCommandSession;

/**
 * Runs one monitor command line and returns its output (always ending in a newline, or
 * empty). Errors in the command are reported in the text.
 */
export function runMonitorCommand(t: DebugTarget, line: string, session: MonitorSession = newMonitorSession()): Promise<string> {
  return runCommand(t, line, { session });
}
