// End to end in a real terminal (tmux): no pane, page or title overflows its border at
// 80×24 or 120×40, and the help line gives the focused pane's keys in full (issue 11,
// defect 17: "System registers ─── icount 12345678" and the VGA title ran over the
// border's corner; the TB cache's keys were cut even at 120 columns).
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { TmuxTerm, skipWithoutTmux } from './support/tmux.js';

const BIOS = '/usr/share/seabios/bios.bin';
const terms: TmuxTerm[] = [];
afterAll(() => {
  for (const t of terms) t.kill();
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Every row at most `width` wide, every top border with both corners, the help line whole. */
function checkScreen(s: string, width: number, what: string): void {
  const rows = s.split('\n');
  for (const r of rows) expect([...r].length, `${what}: ${r}`).toBeLessThanOrEqual(width);
  for (const r of rows) expect(r.split('╭').length, `${what}: ${r}`).toBe(r.split('╮').length);
  const help = rows.filter((r) => r.trim() !== '').at(-1)!;
  expect(help, what).not.toMatch(/…$/);
}

describe.skipIf(skipWithoutTmux() || !existsSync(BIOS))('terminal UI in tmux: borders at 80×24 and 120×40', () => {
  for (const [width, height] of [[80, 24], [120, 40]] as const) {
    it(`${width}×${height}: every pane and register page fits its border`, async () => {
      const t = new TmuxTerm(`borders${width}`);
      terms.push(t);
      t.start(['--ui', 'tui', '--bios', BIOS], { width, height });
      await t.firstFrame('running');
      // Long numbers in the titles: millions of instructions, then stopped.
      await t.waitFor((s) => /([\d,]{9,}) insns/.test(s), 'ten million instructions', 60_000);
      t.keys('p');
      await t.waitFor('paused by ui', 'the pause');
      for (const page of ['general', 'system', 'x87', 'sse']) {
        for (const key of ['0', '2', '3', '4', '5', '6', '7', '8']) {
          t.keys(key);
          await sleep(250);
          checkScreen(t.screen(), width, `${width}×${height} page ${page} pane ${key}`);
        }
        t.keys('z');
        await sleep(250);
        checkScreen(t.screen(), width, `${width}×${height} page ${page} zoomed`);
        t.keys('z', 'R');
        await sleep(250);
      }
      t.keys('q');
      await t.waitFor(() => t.dead(), 'exit', 15_000);
    }, 120_000);
  }
});
