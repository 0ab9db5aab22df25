// The VGA pane types into the guest's PS/2 keyboard (issue 14: boot menus and GRUB need
// one), end to end: keys typed in the UI after `i` reach a guest that polls the 8042 and
// reads port 0x60, as set-1 make and break codes, in order; keys before `i` and after Esc
// reach nothing.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UiSession } from './ui-session.js';
import { DebugController } from '../../src/debug/controller.js';
import { assemble, skipWithoutNasm } from '../../tests/support/nasm.js';
import { guestMachine } from '../../tests/support/guest-machine.js';

/** A boot sector that prints every byte the 8042 gives it on COM1 as two hex digits and a space. */
const KEY_ECHO = `bits 16
org 0x7c00
  cli
  xor ax, ax
  mov ds, ax
  mov ss, ax
  mov sp, 0x7000
poll:
  in al, 0x64
  test al, 1
  jz poll
  in al, 0x60
  mov ah, al
  shr al, 4
  call nibble
  mov al, ah
  and al, 0x0f
  call nibble
  mov al, ' '
  mov dx, 0x3f8
  out dx, al
  jmp poll
nibble:
  add al, '0'
  cmp al, '9'
  jbe .out
  add al, 7
.out:
  mov dx, 0x3f8
  out dx, al
  ret
times 510-($-$$) db 0
dw 0xaa55
`;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.skipIf(skipWithoutNasm())('typing into the guest from the VGA pane', () => {
  it('a guest polling the 8042 reads what was typed after i, and nothing typed before i or after Esc', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bmbt-vgakbd-'));
    try {
      const img = join(dir, 'echo.img');
      writeFileSync(img, assemble(KEY_ECHO));
      const g = guestMachine(['--boot-sector', img]);
      const ctl = new DebugController(g.pc);
      const session = new UiSession(ctl, { columns: 120, rows: 40 });
      session.attach();
      ctl.resume('test');
      // '8' focuses the VGA pane; 'x' there is no command and types nothing.
      session.handleKeys(['8', 'x', 'i', 'a', 'B', 'return', 'escape', 'z']);
      const want = '1E 9E 2A 30 B0 AA 1C 9C ';
      for (let i = 0; i < 200 && g.serialText().length < want.length; i++) await sleep(20);
      await sleep(100);
      await ctl.pause('test');
      expect(g.serialText()).toBe(want);
      session.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
