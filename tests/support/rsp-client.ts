// A GDB remote-serial-protocol client over TCP, for driving QEMU's gdb stub (the CPU
// oracle of the differential tests) and for testing our own stub.
//
// Protocol pieces (GDB manual, "Remote Protocol"): `$payload#cs` framing with a modulo-256
// checksum, `+`/`-` acknowledgements with retransmission on `-`, QStartNoAckMode,
// `}`-escapes (byte ^ 0x20) for binary data, run-length encoding (`x*n`: repeat x n-29
// more times) in replies, `%` notifications, `O` console-output packets, stop replies
// (S, T, W, X) that arrive asynchronously after c/s/vCont, and the raw 0x03 interrupt.
import * as net from 'node:net';

export class RspError extends Error {
  constructor(message: string, readonly reply?: string) {
    super(message);
    this.name = 'RspError';
  }
}
export class RspTimeoutError extends RspError {
  constructor(message: string) {
    super(message);
    this.name = 'RspTimeoutError';
  }
}
export class RspClosedError extends RspError {
  constructor(message: string) {
    super(message);
    this.name = 'RspClosedError';
  }
}

// ---- pure protocol helpers (unit-tested in tests/rsp-client.test.ts) -----------------

const enc = new TextEncoder();

/** Modulo-256 sum of the bytes. */
export function checksum(bytes: Uint8Array): number {
  let sum = 0;
  for (const b of bytes) sum = (sum + b) & 0xff;
  return sum;
}

function toBytes(data: string | Uint8Array): Uint8Array {
  return typeof data === 'string' ? latin1Bytes(data) : data;
}

/** A string whose char codes are bytes (0..255) as bytes. */
export function latin1Bytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) throw new RangeError(`character U+${c.toString(16)} is not a byte`);
    out[i] = c;
  }
  return out;
}

export function latin1String(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x4000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x4000));
  }
  return s;
}

/** `$payload#cs` for a payload given as bytes (or a latin-1 string), unescaped as given. */
export function framePacket(payload: string | Uint8Array): Uint8Array {
  const body = toBytes(payload);
  const out = new Uint8Array(body.length + 4);
  out[0] = 0x24; // $
  out.set(body, 1);
  out[body.length + 1] = 0x23; // #
  const cs = checksum(body).toString(16).padStart(2, '0');
  out[body.length + 2] = cs.charCodeAt(0);
  out[body.length + 3] = cs.charCodeAt(1);
  return out;
}

const ESCAPED = new Set([0x23, 0x24, 0x7d, 0x2a]); // # $ } *

/** Escapes binary data for X packets and binary replies: # $ } * become } (b ^ 0x20). */
export function escapeBinary(data: Uint8Array): Uint8Array {
  let n = data.length;
  for (const b of data) if (ESCAPED.has(b)) n++;
  const out = new Uint8Array(n);
  let j = 0;
  for (const b of data) {
    if (ESCAPED.has(b)) {
      out[j++] = 0x7d;
      out[j++] = b ^ 0x20;
    } else {
      out[j++] = b;
    }
  }
  return out;
}

/** Undoes escapeBinary. A trailing lone `}` is an error. */
export function unescapeBinary(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length);
  let j = 0;
  for (let i = 0; i < data.length; i++) {
    const b = data[i]!;
    if (b === 0x7d) {
      if (i + 1 >= data.length) throw new RspError('binary data ends with a lone escape character');
      out[j++] = data[++i]! ^ 0x20;
    } else {
      out[j++] = b;
    }
  }
  return out.slice(0, j);
}

/**
 * Expands run-length encoding as gdb does (before unescaping): `X*c` repeats X
 * (c - 29) more times. The count character must be printable and not # or $.
 */
export function decodeRunLength(data: Uint8Array): Uint8Array {
  if (!data.includes(0x2a)) return data;
  const out: number[] = [];
  for (let i = 0; i < data.length; i++) {
    const b = data[i]!;
    if (b === 0x2a) {
      if (out.length === 0) throw new RspError('run-length marker at the start of a packet');
      if (i + 1 >= data.length) throw new RspError('run-length marker without a count');
      const c = data[++i]!;
      const n = c - 29;
      if (n < 3 || c > 126) throw new RspError(`bad run-length count character 0x${c.toString(16)}`);
      const prev = out[out.length - 1]!;
      for (let k = 0; k < n; k++) out.push(prev);
    } else {
      out.push(b);
    }
  }
  return Uint8Array.from(out);
}

/** Run-length encodes a reply the way a stub may (for tests); never emits # or $ counts. */
export function encodeRunLength(data: Uint8Array): Uint8Array {
  const out: number[] = [];
  let i = 0;
  while (i < data.length) {
    const b = data[i]!;
    let run = 1;
    while (i + run < data.length && data[i + run] === b && run < 1 + 97) run++;
    // repeats after the first: n = run - 1, count char = n + 29; n >= 3; skip # (35) and $ (36)
    let n = run - 1;
    if (n + 29 === 0x23 || n + 29 === 0x24) n = 5; // 6 or 7 repeats would give # or $
    if (n >= 3) {
      out.push(b, 0x2a, n + 29);
      i += n + 1;
    } else {
      out.push(b);
      i += 1;
    }
  }
  return Uint8Array.from(out);
}

export function hexEncode(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

export function hexDecode(hex: string): Uint8Array {
  if (hex.length % 2 !== 0) throw new RspError(`odd-length hex string '${hex.slice(0, 40)}'`);
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) {
    const v = parseInt(hex.substr(i * 2, 2), 16);
    if (Number.isNaN(v)) throw new RspError(`bad hex '${hex.substr(i * 2, 2)}' in '${hex.slice(0, 40)}'`);
    out[i] = v;
  }
  return out;
}

export function hexOfString(s: string): string {
  return hexEncode(enc.encode(s));
}

function leHex(value: number | bigint, size: number): string {
  let v = BigInt.asUintN(size * 8, BigInt(value));
  let s = '';
  for (let i = 0; i < size; i++) {
    s += Number(v & 0xffn).toString(16).padStart(2, '0');
    v >>= 8n;
  }
  return s;
}

function leValue(bytes: Uint8Array): bigint {
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
  return v;
}

export type WatchKind = 'watch' | 'rwatch' | 'awatch';

export interface StopReply {
  /** 'stop' (S/T), 'exited' (W), 'terminated' (X) */
  kind: 'stop' | 'exited' | 'terminated';
  /** signal number for stop/terminated, exit status for exited */
  signal: number;
  thread?: string;
  core?: number;
  watch?: { kind: WatchKind; addr: number };
  swbreak: boolean;
  hwbreak: boolean;
  /** `n:value` register fields (register number -> little-endian bytes) */
  registers: Map<number, Uint8Array>;
  /** every key:value field of a T reply as sent */
  fields: Map<string, string>;
  /** console output (O packets) received before this stop */
  output: string;
  raw: string;
}

/** Parses a stop reply (S, T, W, X). Throws on anything else. */
export function parseStopReply(raw: string): StopReply {
  const base = {
    swbreak: false,
    hwbreak: false,
    registers: new Map<number, Uint8Array>(),
    fields: new Map<string, string>(),
    output: '',
    raw,
  };
  const head = raw[0];
  if ((head === 'S' || head === 'T') && /^[ST][0-9a-fA-F]{2}/.test(raw)) {
    const r: StopReply = { ...base, kind: 'stop', signal: parseInt(raw.slice(1, 3), 16) };
    if (head === 'T') {
      for (const part of raw.slice(3).split(';')) {
        if (part === '') continue;
        const colon = part.indexOf(':');
        const key = colon < 0 ? part : part.slice(0, colon);
        const value = colon < 0 ? '' : part.slice(colon + 1);
        r.fields.set(key, value);
        if (key === 'thread') r.thread = value;
        else if (key === 'core') r.core = parseInt(value, 16);
        else if (key === 'watch' || key === 'rwatch' || key === 'awatch') {
          r.watch = { kind: key, addr: Number(BigInt.asUintN(64, BigInt('0x' + value))) };
        } else if (key === 'swbreak') r.swbreak = true;
        else if (key === 'hwbreak') r.hwbreak = true;
        else if (/^[0-9a-fA-F]+$/.test(key) && /^([0-9a-fA-F]{2})+$/.test(value)) {
          r.registers.set(parseInt(key, 16), hexDecode(value));
        }
      }
    }
    return r;
  }
  if ((head === 'W' || head === 'X') && /^[WX][0-9a-fA-F]{2}/.test(raw)) {
    const r: StopReply = { ...base, kind: head === 'W' ? 'exited' : 'terminated', signal: parseInt(raw.slice(1, 3), 16) };
    for (const part of raw.slice(3).split(';')) {
      const colon = part.indexOf(':');
      if (colon > 0) r.fields.set(part.slice(0, colon), part.slice(colon + 1));
    }
    return r;
  }
  throw new RspError(`not a stop reply: '${raw.slice(0, 80)}'`, raw);
}

/** True for an `O<hex>` console-output packet (and not the reply `OK`). */
export function isOutputPacket(p: string): boolean {
  return p.length >= 3 && p[0] === 'O' && /^([0-9a-fA-F]{2})+$/.test(p.slice(1));
}

/** `E<hex>` error replies (and `E.text`). */
export function isErrorReply(p: string): boolean {
  return /^E[0-9a-fA-F]{2}$/.test(p) || p.startsWith('E.');
}

// ---- register layout ----------------------------------------------------------------

export interface RegisterInfo {
  name: string;
  /** size in bytes */
  size: number;
  /** remote register number (for p/P) */
  regnum: number;
  /** byte offset in the g/G packet */
  offset: number;
}

function layoutFrom(regs: Array<[string, number]>): RegisterInfo[] {
  const out: RegisterInfo[] = [];
  let offset = 0;
  regs.forEach(([name, size], regnum) => {
    out.push({ name, size, regnum, offset });
    offset += size;
  });
  return out;
}

/** QEMU's i386 layout (one feature, org.gnu.gdb.i386.core; see gdb-facts.md): 344 bytes. */
export const I386_LAYOUT: readonly RegisterInfo[] = layoutFrom([
  ['eax', 4], ['ecx', 4], ['edx', 4], ['ebx', 4], ['esp', 4], ['ebp', 4], ['esi', 4], ['edi', 4],
  ['eip', 4], ['eflags', 4],
  ['cs', 4], ['ss', 4], ['ds', 4], ['es', 4], ['fs', 4], ['gs', 4],
  ['fs_base', 4], ['gs_base', 4], ['k_gs_base', 4],
  ['cr0', 4], ['cr2', 4], ['cr3', 4], ['cr4', 4], ['cr8', 4], ['efer', 4],
  ['st0', 10], ['st1', 10], ['st2', 10], ['st3', 10], ['st4', 10], ['st5', 10], ['st6', 10], ['st7', 10],
  ['fctrl', 4], ['fstat', 4], ['ftag', 4], ['fiseg', 4], ['fioff', 4], ['foseg', 4], ['fooff', 4], ['fop', 4],
  ['xmm0', 16], ['xmm1', 16], ['xmm2', 16], ['xmm3', 16], ['xmm4', 16], ['xmm5', 16], ['xmm6', 16], ['xmm7', 16],
  ['mxcsr', 4],
]);

/** The 32-bit registers every i386 layout has, by name. */
export const I386_GPR_NAMES = [
  'eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi', 'eip', 'eflags',
  'cs', 'ss', 'ds', 'es', 'fs', 'gs',
] as const;
export type I386RegName = (typeof I386_GPR_NAMES)[number];

export type I386Regs = Record<I386RegName, number> & {
  /** every register of the layout that the reply covered, by name: numbers for <= 4 bytes */
  all: Map<string, number | bigint | undefined>;
  /** the g reply as bytes (unavailable `xx` bytes are 0) */
  raw: Uint8Array;
  cr0?: number;
  cr2?: number;
  cr3?: number;
  cr4?: number;
};

/** Parses the register list out of target-description XML (in document order). */
export function parseTargetXmlRegisters(xml: string, startRegnum = 0): Array<{ name: string; bitsize: number; regnum: number }> {
  const out: Array<{ name: string; bitsize: number; regnum: number }> = [];
  let next = startRegnum;
  xml = xml.replace(/<!--[\s\S]*?-->/g, '');
  for (const m of xml.matchAll(/<reg\b([^>]*)\/?>/g)) {
    const attrs = new Map<string, string>();
    for (const a of m[1]!.matchAll(/([A-Za-z_:-]+)\s*=\s*("([^"]*)"|'([^']*)')/g)) {
      attrs.set(a[1]!, a[3] ?? a[4] ?? '');
    }
    const name = attrs.get('name');
    const bitsize = Number(attrs.get('bitsize'));
    if (!name || !Number.isFinite(bitsize)) continue;
    const regnum = attrs.has('regnum') ? Number(attrs.get('regnum')) : next;
    out.push({ name, bitsize, regnum });
    next = regnum + 1;
  }
  return out;
}

// ---- the client ---------------------------------------------------------------------

export interface RspClientOptions {
  /** default time to wait for a reply, ms */
  timeoutMs?: number;
  /** time to wait for `+` before retransmitting, ms */
  ackTimeoutMs?: number;
  /** retransmissions on `-` or a missing ack before giving up */
  maxRetransmits?: number;
  /** log every packet (or set RSP_DEBUG=1) */
  log?: (line: string) => void;
}

export interface ResumeOptions {
  /** ms to wait for the stop reply; default: no limit */
  timeoutMs?: number;
}

type Waiter = { resolve: (p: string) => void; reject: (e: Error) => void; timer?: NodeJS.Timeout };

export class RspClient {
  private readonly socket: net.Socket;
  private rx: number[] = [];
  private state: 'idle' | 'packet' | 'cs1' | 'cs2' = 'idle';
  private isNotification = false;
  private csText = '';
  private readonly queue: string[] = [];
  private readonly waiters: Waiter[] = [];
  private ackWaiter: { resolve: (ok: boolean) => void } | undefined;
  private lock: Promise<unknown> = Promise.resolve();
  private closedError: Error | undefined;
  private readonly timeoutMs: number;
  private readonly ackTimeoutMs: number;
  private readonly maxRetransmits: number;
  private readonly log: ((line: string) => void) | undefined;

  /** true until QStartNoAckMode has been accepted */
  ackMode = true;
  /** `%` notifications received (non-stop mode), oldest first */
  readonly notifications: string[] = [];
  /** packets that arrived when no request was waiting, dropped before the next request */
  droppedPackets = 0;
  /** retransmissions we made because the stub sent `-` */
  retransmits = 0;
  /** packets we received with a bad checksum (and answered with `-`) */
  badChecksums = 0;
  /** features from the last qSupported reply */
  features = new Map<string, string | boolean>();
  /** PacketSize from qSupported (bytes), default 400 */
  packetSize = 400;
  /** register layout for g/G/p/P: QEMU's i386 layout unless a target description was read */
  layout: RegisterInfo[] = [...I386_LAYOUT];
  /** whether the stub accepts X (probed lazily) */
  private binaryWrite: boolean | undefined;
  private running = false;
  private pendingOutput = '';

  private constructor(socket: net.Socket, opts: RspClientOptions, readonly peer: string) {
    this.socket = socket;
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.ackTimeoutMs = opts.ackTimeoutMs ?? 2000;
    this.maxRetransmits = opts.maxRetransmits ?? 5;
    this.log = opts.log ?? (process.env.RSP_DEBUG ? (l: string) => process.stderr.write(`[rsp ${peer}] ${l}\n`) : undefined);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.fail(new RspClosedError(`connection to ${peer}: ${err.message}`)));
    socket.on('close', () => this.fail(new RspClosedError(`connection to ${peer} closed`)));
  }

  /** Connects (one attempt). */
  static connect(port: number, host = '127.0.0.1', opts: RspClientOptions = {}): Promise<RspClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new RspTimeoutError(`connect to ${host}:${port} timed out`));
      }, opts.timeoutMs ?? 5000);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new RspClient(socket, opts, `${host}:${port}`));
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(new RspClosedError(`connect to ${host}:${port}: ${err.message}`));
      });
    });
  }

  get closed(): boolean {
    return this.closedError !== undefined;
  }

  /** True between a resume packet and its stop reply. */
  get isRunning(): boolean {
    return this.running;
  }

  // ---- receiving ----

  private onData(chunk: Buffer): void {
    for (const b of chunk) this.onByte(b);
  }

  private onByte(b: number): void {
    switch (this.state) {
      case 'idle':
        if (b === 0x2b /* + */) {
          const w = this.ackWaiter;
          this.ackWaiter = undefined;
          w?.resolve(true);
        } else if (b === 0x2d /* - */) {
          const w = this.ackWaiter;
          this.ackWaiter = undefined;
          w?.resolve(false);
        } else if (b === 0x24 /* $ */ || b === 0x25 /* % */) {
          this.isNotification = b === 0x25;
          this.rx = [];
          this.state = 'packet';
        }
        // anything else between packets is line noise: ignored
        return;
      case 'packet':
        if (b === 0x23 /* # */) {
          this.state = 'cs1';
          this.csText = '';
        } else if (b === 0x24) {
          // a new packet start inside a packet: the previous one was truncated
          this.rx = [];
        } else {
          this.rx.push(b);
        }
        return;
      case 'cs1':
        this.csText = String.fromCharCode(b);
        this.state = 'cs2';
        return;
      case 'cs2': {
        this.csText += String.fromCharCode(b);
        this.state = 'idle';
        const body = Uint8Array.from(this.rx);
        const ok = parseInt(this.csText, 16) === checksum(body);
        if (this.isNotification) {
          if (ok) this.notifications.push(latin1String(decodeRunLength(body)));
          return;
        }
        if (!ok) {
          this.badChecksums++;
          this.log?.(`<- bad checksum ${this.csText} for '${latin1String(body).slice(0, 60)}'`);
          if (this.ackMode) this.socket.write('-');
          return;
        }
        if (this.ackMode) this.socket.write('+');
        let payload: string;
        try {
          payload = latin1String(decodeRunLength(body));
        } catch (e) {
          this.log?.(`<- undecodable packet: ${(e as Error).message}`);
          return;
        }
        this.log?.(`<- ${payload.length > 200 ? payload.slice(0, 200) + '…' : payload}`);
        this.deliver(payload);
        return;
      }
    }
  }

  private deliver(payload: string): void {
    const w = this.waiters.shift();
    if (w) {
      if (w.timer) clearTimeout(w.timer);
      w.resolve(payload);
    } else {
      this.queue.push(payload);
    }
  }

  private fail(err: Error): void {
    if (this.closedError) return;
    this.closedError = err;
    for (const w of this.waiters.splice(0)) {
      if (w.timer) clearTimeout(w.timer);
      w.reject(err);
    }
    this.ackWaiter?.resolve(false);
    this.ackWaiter = undefined;
  }

  /** The next packet from the stub (queued or future); timeoutMs Infinity waits forever. */
  nextPacket(timeoutMs: number = this.timeoutMs, what = 'a packet'): Promise<string> {
    const queued = this.queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.closedError) return Promise.reject(this.closedError);
    return new Promise((resolve, reject) => {
      const w: Waiter = { resolve, reject };
      if (timeoutMs > 0 && Number.isFinite(timeoutMs)) {
        w.timer = setTimeout(() => {
          const i = this.waiters.indexOf(w);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(new RspTimeoutError(`no reply from ${this.peer} within ${timeoutMs} ms waiting for ${what}`));
        }, timeoutMs);
      }
      this.waiters.push(w);
    });
  }

  // ---- sending ----

  /** Writes bytes as they are (for malformed-packet tests). */
  sendRaw(data: string | Uint8Array): void {
    if (this.closedError) throw this.closedError;
    this.log?.(`-> raw ${JSON.stringify(typeof data === 'string' ? data : latin1String(data))}`);
    this.socket.write(toBytes(data));
  }

  /** Sends the raw interrupt byte 0x03 (the stub should stop the target and send a stop reply). */
  interrupt(): void {
    if (this.closedError) throw this.closedError;
    this.log?.('-> ^C');
    this.socket.write(Uint8Array.of(0x03));
  }

  /** Sends one packet; in ack mode waits for `+`, retransmitting on `-` or a missing ack. */
  async sendPacket(payload: string | Uint8Array): Promise<void> {
    if (this.closedError) throw this.closedError;
    const frame = framePacket(payload);
    const text = typeof payload === 'string' ? payload : latin1String(payload);
    for (let attempt = 0; ; attempt++) {
      this.log?.(`-> ${text.length > 200 ? text.slice(0, 200) + '…' : text}${attempt ? ` (retransmit ${attempt})` : ''}`);
      if (!this.ackMode) {
        this.socket.write(frame);
        return;
      }
      const acked = new Promise<boolean | 'timeout'>((resolve) => {
        const timer = setTimeout(() => {
          if (this.ackWaiter?.resolve === done) this.ackWaiter = undefined;
          resolve('timeout');
        }, this.ackTimeoutMs);
        const done = (ok: boolean) => {
          clearTimeout(timer);
          resolve(ok);
        };
        this.ackWaiter = { resolve: done };
      });
      this.socket.write(frame);
      const r = await acked;
      if (r === true) return;
      if (this.closedError) throw this.closedError;
      if (attempt >= this.maxRetransmits) {
        throw new RspError(`packet '${text.slice(0, 60)}' not acknowledged by ${this.peer} after ${attempt + 1} tries (${r === 'timeout' ? 'no ack' : 'nak'})`);
      }
      this.retransmits++;
    }
  }

  /** Runs fn with the client to itself (requests never interleave). */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }

  private dropStale(): void {
    if (this.queue.length) {
      this.log?.(`dropping ${this.queue.length} stale packet(s)`);
      this.droppedPackets += this.queue.length;
      this.queue.length = 0;
    }
  }

  /**
   * Sends a packet and returns the stub's reply (RLE decoded, not unescaped). `O` output
   * packets before the reply are collected into `lastOutput` unless `raw` is set.
   */
  request(payload: string | Uint8Array, opts: { timeoutMs?: number } = {}): Promise<string> {
    if (this.running) return Promise.reject(new RspError('the target is running: wait for its stop reply or interrupt it first'));
    return this.exclusive(() => this.requestUnlocked(payload, opts.timeoutMs));
  }

  /** Sends a packet that gets no reply (k, for instance). */
  send(payload: string | Uint8Array): Promise<void> {
    return this.exclusive(() => this.sendPacket(payload));
  }

  private async requestUnlocked(payload: string | Uint8Array, timeoutMs = this.timeoutMs): Promise<string> {
    if (this.running) throw new RspError('the target is running: wait for its stop reply or interrupt it first');
    this.dropStale();
    await this.sendPacket(payload);
    const text = typeof payload === 'string' ? payload : latin1String(payload.subarray(0, 40));
    return this.nextPacket(timeoutMs, `the reply to '${text.slice(0, 60)}'`);
  }

  /** request(), then an `Exx` reply or an empty one (unsupported) becomes an RspError. */
  async requestOk(payload: string, opts: { timeoutMs?: number; allowEmpty?: boolean } = {}): Promise<string> {
    const r = await this.request(payload, opts);
    if (isErrorReply(r)) throw new RspError(`'${payload.slice(0, 60)}' failed: ${r}`, r);
    if (r === '' && !opts.allowEmpty) throw new RspError(`'${payload.slice(0, 60)}' is not supported by ${this.peer} (empty reply)`, r);
    return r;
  }

  /** Sends a packet whose reply is binary (escaped) data; returns it unescaped. */
  async requestBinary(payload: string, opts: { timeoutMs?: number } = {}): Promise<Uint8Array> {
    const r = await this.request(payload, opts);
    return unescapeBinary(latin1Bytes(r));
  }

  // ---- resumption and stops ----

  /**
   * Sends a resume packet (c, s, vCont;…, C05…) and waits for the stop reply, collecting
   * `O` console output. On timeout the target is still running: interrupt() then waitStop().
   */
  resume(packet: string, opts: ResumeOptions = {}): Promise<StopReply> {
    if (this.running) return Promise.reject(new RspError('the target is already running'));
    return this.exclusive(async () => {
      if (this.running) throw new RspError('the target is already running');
      this.dropStale();
      this.pendingOutput = '';
      await this.sendPacket(packet);
      this.running = true;
      return this.waitStopUnlocked(opts.timeoutMs, packet);
    });
  }

  /** Waits for the stop reply of a resume whose wait timed out (e.g. after interrupt()). */
  waitStop(timeoutMs: number | undefined = this.timeoutMs): Promise<StopReply> {
    return this.exclusive(() => this.waitStopUnlocked(timeoutMs, 'the stop reply'));
  }

  private async waitStopUnlocked(timeoutMs: number | undefined, what: string): Promise<StopReply> {
    const deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
    for (;;) {
      const left = deadline === undefined ? Infinity : Math.max(1, deadline - Date.now());
      const p = await this.nextPacket(left, `a stop reply after '${what}'`);
      if (isOutputPacket(p)) {
        this.pendingOutput += new TextDecoder().decode(hexDecode(p.slice(1)));
        continue;
      }
      this.running = false;
      if (isErrorReply(p) || p === '' || p === 'OK') {
        throw new RspError(`'${what}' was answered '${p}' instead of a stop reply`, p);
      }
      const stop = parseStopReply(p);
      stop.output = this.pendingOutput;
      this.pendingOutput = '';
      return stop;
    }
  }

  /**
   * After a resume() that timed out: sends 0x03 and waits for the stop reply. (While a
   * resume() is still waiting, call interrupt() alone: that resume() gets the reply.)
   */
  async interruptAndWait(timeoutMs = this.timeoutMs): Promise<StopReply> {
    if (!this.running) throw new RspError('the target is not running');
    this.interrupt();
    return this.waitStop(timeoutMs);
  }

  /** `c` (or `c addr`) and wait for the stop reply. */
  cont(addr?: number, opts: ResumeOptions = {}): Promise<StopReply> {
    return this.resume(addr === undefined ? 'c' : `c${addr.toString(16)}`, opts);
  }

  step(addr?: number, opts: ResumeOptions = {}): Promise<StopReply> {
    return this.resume(addr === undefined ? 's' : `s${addr.toString(16)}`, { timeoutMs: this.timeoutMs, ...opts });
  }

  /** `?`: why the target stopped. */
  async haltReason(): Promise<StopReply> {
    return parseStopReply(await this.requestOk('?'));
  }

  // ---- handshake ----

  /**
   * qSupported with gdb's usual features; records PacketSize and the feature list and
   * switches to no-ack mode if offered (unless noAck is false).
   */
  async qSupported(
    features = ['multiprocess+', 'swbreak+', 'hwbreak+', 'qRelocInsn+', 'vContSupported+', 'xmlRegisters=i386'],
    opts: { noAck?: boolean } = {},
  ): Promise<Map<string, string | boolean>> {
    const r = await this.requestOk(`qSupported:${features.join(';')}`, { allowEmpty: true });
    const map = new Map<string, string | boolean>();
    for (const part of r.split(';')) {
      if (part === '') continue;
      const eq = part.indexOf('=');
      if (eq >= 0) map.set(part.slice(0, eq), part.slice(eq + 1));
      else if (part.endsWith('+')) map.set(part.slice(0, -1), true);
      else if (part.endsWith('-')) map.set(part.slice(0, -1), false);
      else if (part.endsWith('?')) map.set(part.slice(0, -1), 'query');
      else map.set(part, true);
    }
    this.features = map;
    const ps = map.get('PacketSize');
    if (typeof ps === 'string') this.packetSize = parseInt(ps, 16);
    if (map.get('QStartNoAckMode') === true && opts.noAck !== false) await this.startNoAckMode();
    return map;
  }

  /** QStartNoAckMode: after the stub's OK (which we still ack) neither side acks. */
  async startNoAckMode(): Promise<void> {
    const r = await this.request('QStartNoAckMode');
    if (r !== 'OK') throw new RspError(`QStartNoAckMode answered '${r}'`, r);
    this.ackMode = false;
  }

  /** Reads an object through qXfer:<object>:read:<annex>:offset,length. */
  async qXferRead(object: string, annex: string, chunk = 0xffb): Promise<string> {
    let out = '';
    for (let offset = 0; ; ) {
      const r = await this.request(`qXfer:${object}:read:${annex}:${offset.toString(16)},${chunk.toString(16)}`);
      if (r === '') throw new RspError(`qXfer:${object}:read is not supported by ${this.peer}`, r);
      if (isErrorReply(r)) throw new RspError(`qXfer:${object}:read:${annex} failed: ${r}`, r);
      const kind = r[0];
      if (kind !== 'm' && kind !== 'l') throw new RspError(`bad qXfer reply '${r.slice(0, 40)}'`, r);
      const data = unescapeBinary(latin1Bytes(r.slice(1)));
      out += new TextDecoder().decode(data);
      offset += data.length;
      if (kind === 'l') return out;
      if (data.length === 0) throw new RspError(`qXfer:${object}:read:${annex} returned 'm' with no data`);
    }
  }

  /** qXfer:features:read of one annex (target.xml by default). */
  fetchFeatures(annex = 'target.xml'): Promise<string> {
    return this.qXferRead('features', annex);
  }

  /**
   * Reads target.xml and every file it xi:includes, and makes the register layout the
   * one they describe. (QEMU answers p/P only after this.)
   */
  async loadTargetDescription(): Promise<{ files: Map<string, string>; layout: RegisterInfo[] }> {
    const files = new Map<string, string>();
    const regs: Array<{ name: string; bitsize: number; regnum: number }> = [];
    const visit = async (annex: string): Promise<void> => {
      if (files.has(annex)) return;
      const text = await this.fetchFeatures(annex);
      files.set(annex, text);
      const xml = text.replace(/<!--[\s\S]*?-->/g, '');
      // registers and includes in document order
      const re = /<xi:include\s+href\s*=\s*["']([^"']+)["'][^>]*>|<reg\b[^>]*>/g;
      for (const m of xml.matchAll(re)) {
        if (m[1] !== undefined) await visit(m[1]);
        else regs.push(...parseTargetXmlRegisters(m[0], regs.length ? regs[regs.length - 1]!.regnum + 1 : 0));
      }
    };
    await visit('target.xml');
    const sorted = [...regs].sort((a, b) => a.regnum - b.regnum);
    const layout: RegisterInfo[] = [];
    let offset = 0;
    for (const r of sorted) {
      layout.push({ name: r.name, size: r.bitsize / 8, regnum: r.regnum, offset });
      offset += r.bitsize / 8;
    }
    if (layout.length) this.layout = layout;
    return { files, layout: this.layout };
  }

  // ---- registers ----

  private reg(nameOrNum: string | number): RegisterInfo {
    const r = typeof nameOrNum === 'number'
      ? this.layout.find((x) => x.regnum === nameOrNum)
      : this.layout.find((x) => x.name === nameOrNum);
    if (!r) throw new RspError(`unknown register ${nameOrNum}`);
    return r;
  }

  /** `g`: all registers as bytes (unavailable `xx` bytes become 0). */
  async readRegisterBytes(): Promise<Uint8Array> {
    const r = await this.requestOk('g');
    return hexDecode(r.replace(/x/g, '0'));
  }

  /** `g`, parsed with the current layout (QEMU's i386 layout by default). */
  async readRegisters(): Promise<I386Regs> {
    const hex = await this.requestOk('g');
    const raw = hexDecode(hex.replace(/x/g, '0'));
    const all = new Map<string, number | bigint | undefined>();
    for (const r of this.layout) {
      if (r.offset + r.size > raw.length) break;
      const unavailable = hex.slice(r.offset * 2, (r.offset + r.size) * 2).includes('x');
      const bytes = raw.subarray(r.offset, r.offset + r.size);
      const v = leValue(bytes);
      all.set(r.name, unavailable ? undefined : r.size <= 4 ? Number(v) : v);
    }
    const regs = { all, raw } as I386Regs;
    for (const name of I386_GPR_NAMES) {
      const v = all.get(name);
      if (typeof v !== 'number') throw new RspError(`the g reply (${raw.length} bytes) has no 32-bit ${name}`);
      regs[name] = v;
    }
    for (const name of ['cr0', 'cr2', 'cr3', 'cr4'] as const) {
      const v = all.get(name);
      if (typeof v === 'number') regs[name] = v;
    }
    return regs;
  }

  /** `p n`: one register's bytes. */
  async readRegister(nameOrNum: string | number): Promise<Uint8Array> {
    const r = this.reg(nameOrNum);
    return hexDecode(await this.requestOk(`p${r.regnum.toString(16)}`));
  }

  /** `P n=value` (little-endian, the register's size). */
  async writeRegister(nameOrNum: string | number, value: number | bigint | Uint8Array): Promise<void> {
    const r = this.reg(nameOrNum);
    const hex = value instanceof Uint8Array ? hexEncode(value) : leHex(value, r.size);
    const reply = await this.requestOk(`P${r.regnum.toString(16)}=${hex}`);
    if (reply !== 'OK') throw new RspError(`P${r.regnum.toString(16)} answered '${reply}'`, reply);
  }

  /** `G`: all registers. */
  async writeRegisterBytes(bytes: Uint8Array): Promise<void> {
    const reply = await this.requestOk(`G${hexEncode(bytes)}`);
    if (reply !== 'OK') throw new RspError(`G answered '${reply}'`, reply);
  }

  // ---- memory ----

  /** Largest m/M chunk: QEMU refuses m over 0x800 bytes; packets must fit PacketSize. */
  get memoryChunk(): number {
    return Math.max(16, Math.min(0x800, Math.floor((this.packetSize - 32) / 2)));
  }

  /** `m`, in chunks; a short reply continues from where it stopped. */
  async readMemory(addr: number, length: number): Promise<Uint8Array> {
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const n = Math.min(this.memoryChunk, length - done);
      const a = (addr + done) >>> 0;
      const r = await this.request(`m${a.toString(16)},${n.toString(16)}`);
      if (isErrorReply(r)) throw new RspError(`reading ${n} bytes at 0x${a.toString(16)} failed: ${r}`, r);
      if (r === '') throw new RspError(`reading memory at 0x${a.toString(16)}: empty reply`, r);
      const bytes = hexDecode(r);
      if (bytes.length === 0 || bytes.length > n) throw new RspError(`m${a.toString(16)},${n.toString(16)} returned ${bytes.length} bytes`, r);
      out.set(bytes, done);
      done += bytes.length;
    }
    return out;
  }

  /** Writes memory with X (binary) when the stub takes it, else M (hex), in chunks. */
  async writeMemory(addr: number, data: Uint8Array, opts: { binary?: boolean } = {}): Promise<void> {
    if (data.length === 0) return;
    let binary = opts.binary ?? this.binaryWrite;
    if (binary === undefined) {
      const r = await this.request(`X${(addr >>> 0).toString(16)},0:`);
      this.binaryWrite = binary = r === 'OK';
    }
    const chunk = binary ? Math.max(16, Math.floor((this.packetSize - 32) / 2)) : this.memoryChunk;
    for (let done = 0; done < data.length; done += chunk) {
      const part = data.subarray(done, done + chunk);
      const a = (addr + done) >>> 0;
      let reply: string;
      if (binary) {
        const head = latin1Bytes(`X${a.toString(16)},${part.length.toString(16)}:`);
        const esc = escapeBinary(part);
        const pkt = new Uint8Array(head.length + esc.length);
        pkt.set(head);
        pkt.set(esc, head.length);
        reply = await this.request(pkt);
      } else {
        reply = await this.request(`M${a.toString(16)},${part.length.toString(16)}:${hexEncode(part)}`);
      }
      if (reply !== 'OK') throw new RspError(`writing ${part.length} bytes at 0x${a.toString(16)} failed: '${reply}'`, reply);
    }
  }

  // ---- breakpoints and watchpoints ----

  /** Z<type>,addr,kind: 0 software, 1 hardware, 2 write, 3 read, 4 access watchpoint. */
  async insertPoint(type: 0 | 1 | 2 | 3 | 4, addr: number, kind = 1): Promise<void> {
    const r = await this.request(`Z${type},${(addr >>> 0).toString(16)},${kind.toString(16)}`);
    if (r !== 'OK') throw new RspError(`Z${type} at 0x${addr.toString(16)} answered '${r}'`, r);
  }

  async removePoint(type: 0 | 1 | 2 | 3 | 4, addr: number, kind = 1): Promise<void> {
    const r = await this.request(`z${type},${(addr >>> 0).toString(16)},${kind.toString(16)}`);
    if (r !== 'OK') throw new RspError(`z${type} at 0x${addr.toString(16)} answered '${r}'`, r);
  }

  insertBreakpoint(addr: number, opts: { hardware?: boolean } = {}): Promise<void> {
    return this.insertPoint(opts.hardware ? 1 : 0, addr, 1);
  }

  removeBreakpoint(addr: number, opts: { hardware?: boolean } = {}): Promise<void> {
    return this.removePoint(opts.hardware ? 1 : 0, addr, 1);
  }

  insertWatchpoint(kind: WatchKind, addr: number, len: number): Promise<void> {
    return this.insertPoint(kind === 'watch' ? 2 : kind === 'rwatch' ? 3 : 4, addr, len);
  }

  removeWatchpoint(kind: WatchKind, addr: number, len: number): Promise<void> {
    return this.removePoint(kind === 'watch' ? 2 : kind === 'rwatch' ? 3 : 4, addr, len);
  }

  // ---- monitor, kill, detach ----

  /** `monitor cmd` (qRcmd): returns the collected `O` output. */
  monitor(cmd: string, opts: { timeoutMs?: number } = {}): Promise<string> {
    if (this.running) return Promise.reject(new RspError('the target is running'));
    return this.exclusive(async () => {
      let p = await this.requestUnlocked(`qRcmd,${hexOfString(cmd)}`, opts.timeoutMs);
      let out = '';
      const dec = new TextDecoder();
      for (;;) {
        if (isOutputPacket(p)) out += dec.decode(hexDecode(p.slice(1)));
        else if (p === 'OK') return out;
        else if (p === '') throw new RspError(`qRcmd is not supported by ${this.peer}`, p);
        else if (isErrorReply(p)) throw new RspError(`monitor '${cmd}' failed: ${p}${out ? ` (output: ${out})` : ''}`, p);
        else if (/^([0-9a-fA-F]{2})+$/.test(p)) return out + dec.decode(hexDecode(p));
        else throw new RspError(`unexpected reply '${p.slice(0, 40)}' to monitor '${cmd}'`, p);
        p = await this.nextPacket(opts.timeoutMs ?? this.timeoutMs, `more output of monitor '${cmd}'`);
      }
    });
  }

  /** `k` (no reply expected); waits up to waitCloseMs for the stub to close the connection. */
  async kill(waitCloseMs = 1000): Promise<void> {
    if (this.closed) return;
    await this.send('k').catch(() => undefined);
    await this.waitClosed(waitCloseMs);
  }

  /** `D` (or `D;pid`): expects OK. */
  async detach(pid?: number): Promise<void> {
    await this.requestOk(pid === undefined ? 'D' : `D;${pid.toString(16)}`);
  }

  /** Resolves when the socket closes or after ms. */
  waitClosed(ms: number): Promise<boolean> {
    if (this.closed) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), ms);
      this.socket.once('close', () => {
        clearTimeout(t);
        resolve(true);
      });
    });
  }

  /** Closes the connection (the stub sees EOF). */
  close(): void {
    this.socket.destroy();
    this.fail(new RspClosedError(`connection to ${this.peer} closed by the client`));
  }
}
