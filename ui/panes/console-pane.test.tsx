// The console pane shows the echo sample's serial output, and keys typed while it is
// focused reach the guest's UART and come back.
import { describe, expect, it } from 'vitest';
import { render } from 'ink-testing-library';
import { ConsolePane } from './console-pane.js';
import { UiSession } from '../model/ui-session.js';
import { sampleController, runUntil, plain } from '../../tests/support/sample-controller.js';

describe('ConsolePane', () => {
  it('shows serial output; typed keys go to the echo sample and come back', async () => {
    const s = sampleController('echo');
    const session = new UiSession(s.ctl, { columns: 100, rows: 30 });
    s.onSerial((b) => session.serialOutput(b));
    await runUntil(s.ctl, () => s.serial().includes('echo ready'));
    session.handleKeys(['1', 'h', 'i', 'space', 't', 'h', 'e', 'r', 'e', 'return']);
    expect(session.focus).toBe('console');
    await runUntil(s.ctl, () => s.serial().includes('hi there\r\n'));
    session.dispose();
    const snap = session.publishNow();
    expect(snap.pane?.id).toBe('console');
    if (snap.pane?.id !== 'console') return;
    expect(snap.pane.view.sent).toBe(9);
    const text = plain(render(<ConsolePane view={snap.pane.view} width={60} height={10} focused />).lastFrame());
    expect(text).toContain('echo ready');
    expect(text).toContain('hi there');
    expect(text).toMatch(/█/);
  });
});
