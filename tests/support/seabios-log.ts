// Comparing SeaBIOS debug logs with QEMU's. SeaBIOS probes the drives and initialises the
// keyboard in threads of their own beside its main thread (serial and parallel ports,
// boot order) until "All threads complete.": under QEMU (real time) their lines
// interleave as the host's load has it. Outside that window the logs compare line for
// line; inside it, as the same lines, with one thread's own lines (`ordered`) in order.
import { expect } from 'vitest';

/** The log up to the boot image, as lines. */
export function seabiosLinesUpToBoot(log: string): string[] {
  const l = log.replace(/\r/g, '');
  return l.slice(0, l.indexOf('Booting from 0000:7c00')).split('\n');
}

interface Split {
  outside: string[];
  window: string[];
  ordered: string[];
}

function split(lines: string[], ordered: (line: string) => boolean): Split {
  const from = lines.findIndex((l) => l.startsWith('ATA controller 2 at')) + 1;
  const to = lines.indexOf('All threads complete.');
  expect(from).toBeGreaterThan(0);
  expect(to).toBeGreaterThan(from);
  const window = lines.slice(from, to);
  return { outside: [...lines.slice(0, from), ...lines.slice(to)], window: [...window].sort(), ordered: window.filter(ordered) };
}

/** Expect our log to be QEMU's, up to the boot image, threads' interleaving aside; returns the ordered lines. */
export function expectSeabiosLogsEqual(ours: string, qemu: string, ordered: (line: string) => boolean): string[] {
  const o = split(seabiosLinesUpToBoot(ours), ordered);
  const q = split(seabiosLinesUpToBoot(qemu), ordered);
  expect(o.outside).toEqual(q.outside);
  expect(o.window).toEqual(q.window);
  expect(o.ordered).toEqual(q.ordered);
  return o.ordered;
}
