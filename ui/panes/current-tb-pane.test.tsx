// The current-TB pane: the TB that holds EIP in the hello sample, its guest instructions
// and the JavaScript the translator generated for it.
import { describe, expect, it } from 'vitest';
import { render } from 'ink-testing-library';
import { CurrentTbPane } from './current-tb-pane.js';
import { tbAtEip } from '../model/disasm-view.js';
import { tbDetail } from '../model/tb-view.js';
import { sampleController, plain } from '../../tests/support/sample-controller.js';

describe('CurrentTbPane', () => {
  it('shows the guest code and the generated JavaScript of the TB holding EIP', async () => {
    const { ctl, symbol } = sampleController('hello');
    const loop = symbol('main') + 0x28;
    ctl.addBreakpoint(loop + 0x13);
    await ctl.continue();
    await ctl.setRegister('eip', loop);
    const { tb, how } = tbAtEip(ctl);
    expect(how).toBe('eip');
    expect(tb!.pc).toBe(loop);
    const detail = tbDetail(ctl, ctl.tbDetail(tb!.id)!, loop);
    const { lastFrame } = render(<CurrentTbPane view={{ tb: detail, how, scroll: 0 }} width={96} height={40} />);
    const text = plain(lastFrame());
    expect(text).toContain(`TB #${tb!.id} 00100b78-00100b8b <main+0x28> · 5 insns · executed ${tb!.execCount}×`);
    expect(text).toMatch(/▶ 00100b78  xor eax,edx/);
    expect(text).toMatch(/ 00100b7d  imul eax,1000193h/);
    expect(text).toContain('generated JavaScript:');
    // The first line of the generated source is in the pane.
    expect(text).toContain(ctl.tbDetail(tb!.id)!.source.split('\n')[0]!.trim().slice(0, 40));
  });

  it('scrolls through the generated code', async () => {
    const { ctl, symbol } = sampleController('hello');
    ctl.addBreakpoint(symbol('main') + 0x3b);
    await ctl.continue();
    await ctl.setRegister('eip', symbol('main') + 0x28);
    const { tb } = tbAtEip(ctl);
    const detail = tbDetail(ctl, ctl.tbDetail(tb!.id)!);
    const lines = detail.source.filter((l) => l.trim() !== '');
    const { lastFrame } = render(<CurrentTbPane view={{ tb: detail, how: 'eip', scroll: 7 + lines.length }} width={96} height={6} />);
    const text = plain(lastFrame());
    expect(text).not.toContain('guest code:');
    expect(text).toContain(detail.source[detail.source.length - 1]!.trim().slice(0, 40));
  });
});
