// Intel 8042 keyboard controller at 0x60 (data) / 0x64 (status, command) with a PS/2 (MF2)
// keyboard and a PS/2 mouse behind it (IBM PS/2 technical reference; QEMU hw/input/pckbd.c
// and ps2.c where a choice is left). IRQ 1 for keyboard bytes, IRQ 12 for mouse bytes.
//
// The controller has one output buffer. Controller replies (self test 0x55, command byte,
// output port...) go straight into it; the keyboard and mouse each have a 16-byte queue
// that feeds it while the port is enabled (command byte bits 4/5 clear). Status bit 5
// marks mouse data. The output port holds A20 (bit 1) and the CPU reset line (bit 0,
// active low): writing it with bit 0 clear, or pulsing it with 0xF0-0xFE (bit 0 clear),
// resets the machine. Reset state follows QEMU: command byte 0x03 (both IRQs on), status
// 0x18, output port 0xCF (A20 enabled).
//
// Scan codes are injected as the bytes the guest reads (set 1 when translation is on, as
// BIOSes leave it); the keyboard does no translation of its own (docs/decisions.md).
import type { IoBus, PortHandler } from './io-bus.js';
import { NO_IRQ, type IrqLine, type Resettable, type SavesState } from './device.js';

export const KBD_DATA_PORT = 0x60;
export const KBD_STATUS_PORT = 0x64;

// Status register
export const KBD_STAT_OBF = 0x01;
export const KBD_STAT_IBF = 0x02;
export const KBD_STAT_SELFTEST = 0x04;
export const KBD_STAT_CMD = 0x08;
export const KBD_STAT_UNLOCKED = 0x10;
export const KBD_STAT_MOUSE_OBF = 0x20;
// Command byte ("mode")
export const KBD_MODE_KBD_INT = 0x01;
export const KBD_MODE_MOUSE_INT = 0x02;
export const KBD_MODE_SYS = 0x04;
export const KBD_MODE_DISABLE_KBD = 0x10;
export const KBD_MODE_DISABLE_MOUSE = 0x20;
export const KBD_MODE_KCC = 0x40;
// Output port
export const KBD_OUT_RESET = 0x01;
export const KBD_OUT_A20 = 0x02;
export const KBD_OUT_OBF = 0x10;
export const KBD_OUT_MOUSE_OBF = 0x20;
const KBD_OUT_ONES = 0xcc;

// Controller commands
const CCMD_READ_MODE = 0x20;
const CCMD_WRITE_MODE = 0x60;
const CCMD_MOUSE_DISABLE = 0xa7;
const CCMD_MOUSE_ENABLE = 0xa8;
const CCMD_TEST_MOUSE = 0xa9;
const CCMD_SELF_TEST = 0xaa;
const CCMD_KBD_TEST = 0xab;
const CCMD_KBD_DISABLE = 0xad;
const CCMD_KBD_ENABLE = 0xae;
const CCMD_READ_INPORT = 0xc0;
const CCMD_READ_OUTPORT = 0xd0;
const CCMD_WRITE_OUTPORT = 0xd1;
const CCMD_WRITE_OBUF = 0xd2;
const CCMD_WRITE_AUX_OBUF = 0xd3;
const CCMD_WRITE_MOUSE = 0xd4;
const CCMD_DISABLE_A20 = 0xdd;
const CCMD_ENABLE_A20 = 0xdf;
const CCMD_READ_TSTINP = 0xe0;
const CCMD_RESET = 0xfe;

// Device replies
const ACK = 0xfa;
const RESEND = 0xfe;
const BAT_OK = 0xaa;
const QUEUE_SIZE = 16;

export interface I8042Options {
  irqKbd?: IrqLine;
  irqMouse?: IrqLine;
  /** Output port bit 1 changed (the board applies A20 to the CPU). */
  setA20?: (enabled: boolean) => void;
  /** The controller pulsed the CPU reset line. */
  onReset?: () => void;
}

interface KbdState {
  queue: number[];
  scanEnabled: boolean;
  /** Command awaiting its argument byte (0xED, 0xF0, 0xF3), or 0. */
  pending: number;
  scancodeSet: number;
  leds: number;
}

interface MouseState {
  queue: number[];
  enabled: boolean;
  pending: number;
  sampleRate: number;
  resolution: number;
  scaling21: boolean;
  remote: boolean;
  wrap: boolean;
}

export interface I8042State {
  status: number;
  mode: number;
  outport: number;
  ob: number;
  obSource: 'none' | 'ctrl' | 'kbd' | 'aux';
  pendingCmd: number;
  kbd: KbdState;
  mouse: MouseState;
  irqKbd: boolean;
  irqMouse: boolean;
}

export interface I8042Info {
  status: number;
  commandByte: number;
  outputPort: number;
  a20: boolean;
  outputBuffer: number | null;
  outputSource: string;
  keyboard: { queued: number; scanning: boolean; scancodeSet: number; leds: number };
  mouse: { queued: number; enabled: boolean; sampleRate: number };
  irq1: boolean;
  irq12: boolean;
}

function freshKbd(): KbdState {
  return { queue: [], scanEnabled: true, pending: 0, scancodeSet: 2, leds: 0 };
}

function freshMouse(): MouseState {
  return { queue: [], enabled: false, pending: 0, sampleRate: 100, resolution: 2, scaling21: false, remote: false, wrap: false };
}

export class I8042 implements PortHandler, Resettable, SavesState<I8042State> {
  private status = KBD_STAT_CMD | KBD_STAT_UNLOCKED;
  private mode = KBD_MODE_KBD_INT | KBD_MODE_MOUSE_INT;
  private outport = KBD_OUT_RESET | KBD_OUT_A20 | KBD_OUT_ONES;
  private ob = 0;
  private obSource: I8042State['obSource'] = 'none';
  private pendingCmd = 0;
  private kbd = freshKbd();
  private mouse = freshMouse();
  private irqKbdLevel = false;
  private irqMouseLevel = false;
  private readonly irqKbd: IrqLine;
  private readonly irqMouse: IrqLine;
  setA20: (enabled: boolean) => void;
  onReset: () => void;

  constructor(io: IoBus, opts: I8042Options = {}) {
    this.irqKbd = opts.irqKbd ?? NO_IRQ;
    this.irqMouse = opts.irqMouse ?? NO_IRQ;
    this.setA20 = opts.setA20 ?? (() => {});
    this.onReset = opts.onReset ?? (() => {});
    io.register(KBD_DATA_PORT, 1, this, 'i8042-data');
    io.register(KBD_STATUS_PORT, 1, this, 'i8042-cmd');
  }

  // ---- output buffer and interrupts ----------------------------------------------------

  private get obFull(): boolean {
    return this.obSource !== 'none';
  }

  /** Put a controller reply in the output buffer (replaces an unread byte, as QEMU). */
  private ctrlReply(b: number, aux = false): void {
    this.ob = b & 0xff;
    this.obSource = aux ? 'aux' : 'ctrl';
    this.update();
  }

  /** Move queued device bytes into an empty output buffer, then drive IRQ 1 / IRQ 12. */
  private update(): void {
    if (!this.obFull) {
      if (this.kbd.queue.length && !(this.mode & KBD_MODE_DISABLE_KBD)) {
        this.ob = this.kbd.queue.shift()!;
        this.obSource = 'kbd';
      } else if (this.mouse.queue.length && !(this.mode & KBD_MODE_DISABLE_MOUSE)) {
        this.ob = this.mouse.queue.shift()!;
        this.obSource = 'aux';
      }
    }
    this.status &= ~(KBD_STAT_OBF | KBD_STAT_MOUSE_OBF);
    this.outport &= ~(KBD_OUT_OBF | KBD_OUT_MOUSE_OBF);
    let k = false;
    let m = false;
    if (this.obFull) {
      this.status |= KBD_STAT_OBF;
      this.outport |= KBD_OUT_OBF;
      if (this.obSource === 'aux') {
        this.status |= KBD_STAT_MOUSE_OBF;
        this.outport |= KBD_OUT_MOUSE_OBF;
        m = (this.mode & KBD_MODE_MOUSE_INT) !== 0;
      } else k = (this.mode & KBD_MODE_KBD_INT) !== 0;
    }
    if (k !== this.irqKbdLevel) {
      this.irqKbdLevel = k;
      this.irqKbd.set(k);
    }
    if (m !== this.irqMouseLevel) {
      this.irqMouseLevel = m;
      this.irqMouse.set(m);
    }
  }

  private kbdQueue(...bytes: number[]): void {
    for (const b of bytes) if (this.kbd.queue.length < QUEUE_SIZE) this.kbd.queue.push(b & 0xff);
    this.update();
  }

  private mouseQueue(...bytes: number[]): void {
    for (const b of bytes) if (this.mouse.queue.length < QUEUE_SIZE) this.mouse.queue.push(b & 0xff);
    this.update();
  }

  // ---- ports ---------------------------------------------------------------------------

  read(port: number, size: number): number {
    const v = port === KBD_DATA_PORT ? this.readData() : this.status;
    return size === 1 ? v : size === 2 ? v | 0xff00 : (v | 0xffffff00) >>> 0;
  }

  write(port: number, value: number): void {
    if (port === KBD_DATA_PORT) this.writeData(value & 0xff);
    else this.writeCommand(value & 0xff);
  }

  private readData(): number {
    // An empty buffer reads the last byte again (QEMU).
    const v = this.ob;
    if (this.obFull) {
      this.obSource = 'none';
      // Lower the lines first so a next byte makes a new edge (the PICs are edge-triggered).
      if (this.irqKbdLevel) {
        this.irqKbdLevel = false;
        this.irqKbd.set(false);
      }
      if (this.irqMouseLevel) {
        this.irqMouseLevel = false;
        this.irqMouse.set(false);
      }
      this.update();
    }
    return v;
  }

  private writeCommand(cmd: number): void {
    this.status |= KBD_STAT_CMD;
    if (cmd >= 0xf0) {
      // Pulse output port bits 3-0 low for 6 us: bit 0 is the CPU reset line.
      if (!(cmd & 1)) this.onReset();
      return;
    }
    switch (cmd) {
      case CCMD_READ_MODE: this.ctrlReply(this.mode); break;
      case CCMD_WRITE_MODE: case CCMD_WRITE_OUTPORT: case CCMD_WRITE_OBUF:
      case CCMD_WRITE_AUX_OBUF: case CCMD_WRITE_MOUSE:
        this.pendingCmd = cmd;
        break;
      case CCMD_MOUSE_DISABLE: this.mode |= KBD_MODE_DISABLE_MOUSE; this.update(); break;
      case CCMD_MOUSE_ENABLE: this.mode &= ~KBD_MODE_DISABLE_MOUSE; this.update(); break;
      case CCMD_TEST_MOUSE: this.ctrlReply(0x00); break;
      case CCMD_SELF_TEST:
        this.status |= KBD_STAT_SELFTEST;
        this.ctrlReply(0x55);
        break;
      case CCMD_KBD_TEST: this.ctrlReply(0x00); break;
      case CCMD_KBD_DISABLE: this.mode |= KBD_MODE_DISABLE_KBD; this.update(); break;
      case CCMD_KBD_ENABLE: this.mode &= ~KBD_MODE_DISABLE_KBD; this.update(); break;
      case CCMD_READ_INPORT: this.ctrlReply(0x80); break; // keyboard not inhibited
      case CCMD_READ_OUTPORT: this.ctrlReply(this.outport); break;
      case CCMD_ENABLE_A20: this.writeOutport(this.outport | KBD_OUT_A20); break;
      case CCMD_DISABLE_A20: this.writeOutport(this.outport & ~KBD_OUT_A20); break;
      case CCMD_READ_TSTINP: this.ctrlReply(0x00); break;
      default:
        break; // unknown commands are ignored
    }
  }

  private writeData(val: number): void {
    this.status &= ~KBD_STAT_CMD;
    const cmd = this.pendingCmd;
    this.pendingCmd = 0;
    switch (cmd) {
      case 0:
        // Writing to the keyboard enables its port (QEMU, and real controllers).
        this.mode &= ~KBD_MODE_DISABLE_KBD;
        this.kbdWrite(val);
        break;
      case CCMD_WRITE_MODE:
        this.mode = val;
        this.update();
        break;
      case CCMD_WRITE_OUTPORT: this.writeOutport(val); break;
      case CCMD_WRITE_OBUF: this.ctrlReply(val); break;
      case CCMD_WRITE_AUX_OBUF: this.ctrlReply(val, true); break;
      case CCMD_WRITE_MOUSE: this.mouseWrite(val); break;
    }
  }

  private writeOutport(val: number): void {
    this.outport = (val & ~(KBD_OUT_OBF | KBD_OUT_MOUSE_OBF)) | (this.outport & (KBD_OUT_OBF | KBD_OUT_MOUSE_OBF));
    this.setA20((val & KBD_OUT_A20) !== 0);
    if (!(val & KBD_OUT_RESET)) this.onReset();
  }

  // ---- the keyboard (ps2_write_keyboard) ------------------------------------------------

  private kbdWrite(val: number): void {
    const k = this.kbd;
    if (k.pending) {
      const cmd = k.pending;
      k.pending = 0;
      if (cmd === 0xed) {
        k.leds = val & 7;
        this.kbdQueue(ACK);
      } else if (cmd === 0xf3) {
        this.kbdQueue(ACK);
      } else if (cmd === 0xf0) {
        if (val === 0) this.kbdQueue(ACK, this.mode & KBD_MODE_KCC ? [0, 0x43, 0x41, 0x3f][k.scancodeSet]! : k.scancodeSet);
        else if (val >= 1 && val <= 3) {
          k.scancodeSet = val;
          this.kbdQueue(ACK);
        } else this.kbdQueue(RESEND);
      }
      return;
    }
    switch (val) {
      case 0x00: this.kbdQueue(ACK); break;
      case 0x05: this.kbdQueue(RESEND); break;
      case 0xed: case 0xf0: case 0xf3:
        k.pending = val;
        this.kbdQueue(ACK);
        break;
      case 0xee: this.kbdQueue(0xee); break; // echo
      case 0xf2: // identify: MF2 keyboard, translated id when the controller translates
        this.kbdQueue(ACK, 0xab, this.mode & KBD_MODE_KCC ? 0x41 : 0x83);
        break;
      case 0xf4: k.scanEnabled = true; this.kbdQueue(ACK); break;
      case 0xf5: // reset to defaults and disable
        this.kbdDefaults();
        k.scanEnabled = false;
        this.kbdQueue(ACK);
        break;
      case 0xf6: this.kbdDefaults(); this.kbdQueue(ACK); break;
      case 0xf7: case 0xf8: case 0xf9: case 0xfa: case 0xfb: case 0xfc: case 0xfd: case 0xfe:
        this.kbdQueue(ACK);
        break;
      case 0xff: // reset: ACK, then the basic assurance test passes
        this.kbd = freshKbd();
        this.kbdQueue(ACK, BAT_OK);
        break;
      default:
        this.kbdQueue(RESEND);
    }
  }

  private kbdDefaults(): void {
    this.kbd.queue.length = 0;
    this.kbd.scancodeSet = 2;
    this.kbd.leds = 0;
    this.kbd.scanEnabled = true;
  }

  // ---- the mouse (ps2_write_mouse) -----------------------------------------------------

  private mouseWrite(val: number): void {
    const m = this.mouse;
    if (m.wrap && val !== 0xec && val !== 0xff) {
      this.mouseQueue(val);
      return;
    }
    if (m.pending) {
      const cmd = m.pending;
      m.pending = 0;
      if (cmd === 0xf3) m.sampleRate = val;
      else if (cmd === 0xe8) m.resolution = val & 3;
      this.mouseQueue(ACK);
      return;
    }
    switch (val) {
      case 0xe6: m.scaling21 = false; this.mouseQueue(ACK); break;
      case 0xe7: m.scaling21 = true; this.mouseQueue(ACK); break;
      case 0xe8: case 0xf3: m.pending = val; this.mouseQueue(ACK); break;
      case 0xe9: { // status request
        const b0 = (m.remote ? 0x40 : 0) | (m.enabled ? 0x20 : 0) | (m.scaling21 ? 0x10 : 0);
        this.mouseQueue(ACK, b0, m.resolution, m.sampleRate);
        break;
      }
      case 0xea: m.remote = false; this.mouseQueue(ACK); break;
      case 0xeb: this.mouseQueue(ACK, 0x08, 0, 0); break; // read data: no motion
      case 0xec: m.wrap = false; this.mouseQueue(ACK); break;
      case 0xee: m.wrap = true; this.mouseQueue(ACK); break;
      case 0xf0: m.remote = true; this.mouseQueue(ACK); break;
      case 0xf2: this.mouseQueue(ACK, 0x00); break; // standard PS/2 mouse id
      case 0xf4: m.enabled = true; this.mouseQueue(ACK); break;
      case 0xf5: m.enabled = false; this.mouseQueue(ACK); break;
      case 0xf6:
        m.sampleRate = 100; m.resolution = 2; m.scaling21 = false; m.enabled = false;
        this.mouseQueue(ACK);
        break;
      case 0xff:
        this.mouse = freshMouse();
        this.mouseQueue(ACK, BAT_OK, 0x00);
        break;
      default:
        this.mouseQueue(RESEND);
    }
  }

  // ---- host side -----------------------------------------------------------------------

  /** Keyboard bytes as the guest will read them (set 1 make/break codes, E0 prefixes...). */
  injectScancodes(bytes: readonly number[] | Uint8Array): void {
    if (!this.kbd.scanEnabled) return;
    this.kbdQueue(...Array.from(bytes));
  }

  /** A standard 3-byte PS/2 mouse packet, when the guest enabled reporting. */
  injectMouse(dx: number, dy: number, buttons: number): void {
    if (!this.mouse.enabled || this.mouse.remote) return;
    dx = Math.max(-256, Math.min(255, dx | 0));
    dy = Math.max(-256, Math.min(255, dy | 0));
    const b0 = 0x08 | (buttons & 7) | (dx < 0 ? 0x10 : 0) | (dy < 0 ? 0x20 : 0);
    this.mouseQueue(b0, dx & 0xff, dy & 0xff);
  }

  get a20(): boolean {
    return (this.outport & KBD_OUT_A20) !== 0;
  }

  reset(): void {
    this.status = KBD_STAT_CMD | KBD_STAT_UNLOCKED;
    this.mode = KBD_MODE_KBD_INT | KBD_MODE_MOUSE_INT;
    this.outport = KBD_OUT_RESET | KBD_OUT_A20 | KBD_OUT_ONES;
    this.obSource = 'none';
    this.ob = 0;
    this.pendingCmd = 0;
    this.kbd = freshKbd();
    this.mouse = freshMouse();
    this.update();
  }

  saveState(): I8042State {
    return {
      status: this.status, mode: this.mode, outport: this.outport, ob: this.ob, obSource: this.obSource,
      pendingCmd: this.pendingCmd, kbd: { ...this.kbd, queue: [...this.kbd.queue] },
      mouse: { ...this.mouse, queue: [...this.mouse.queue] }, irqKbd: this.irqKbdLevel, irqMouse: this.irqMouseLevel,
    };
  }

  loadState(s: I8042State): void {
    this.status = s.status;
    this.mode = s.mode;
    this.outport = s.outport;
    this.ob = s.ob;
    this.obSource = s.obSource;
    this.pendingCmd = s.pendingCmd;
    this.kbd = { ...s.kbd, queue: [...s.kbd.queue] };
    this.mouse = { ...s.mouse, queue: [...s.mouse.queue] };
    this.irqKbdLevel = s.irqKbd;
    this.irqMouseLevel = s.irqMouse;
    this.irqKbd.set(s.irqKbd);
    this.irqMouse.set(s.irqMouse);
  }

  info(): I8042Info {
    return {
      status: this.status,
      commandByte: this.mode,
      outputPort: this.outport,
      a20: this.a20,
      outputBuffer: this.obFull ? this.ob : null,
      outputSource: this.obSource,
      keyboard: { queued: this.kbd.queue.length, scanning: this.kbd.scanEnabled, scancodeSet: this.kbd.scancodeSet, leds: this.kbd.leds },
      mouse: { queued: this.mouse.queue.length, enabled: this.mouse.enabled, sampleRate: this.mouse.sampleRate },
      irq1: this.irqKbdLevel,
      irq12: this.irqMouseLevel,
    };
  }
}
