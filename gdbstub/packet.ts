// RSP framing (GDB manual, "Overview" of the remote protocol): `$payload#cs` with a
// modulo-256 checksum, `+`/`-` acknowledgements, the raw 0x03 interrupt byte between
// packets, `}`-escapes in binary data. The decoder is a byte-at-a-time state machine with
// a bounded buffer, so nothing a peer sends can make it grow without limit or throw.

/** Largest payload we accept (advertised as PacketSize, in hex, in qSupported). */
export const MAX_PACKET = 0x4000;

export type RspInput =
  | { kind: 'packet'; payload: Uint8Array }
  | { kind: 'bad-checksum' }
  | { kind: 'oversized' }
  | { kind: 'ack' }
  | { kind: 'nak' }
  | { kind: 'interrupt' }
  | { kind: 'noise'; byte: number };

const DOLLAR = 0x24;
const HASH = 0x23;
const PLUS = 0x2b;
const MINUS = 0x2d;
const CTRL_C = 0x03;

export function checksum(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let s = 0;
  for (let i = start; i < end; i++) s = (s + bytes[i]!) & 0xff;
  return s;
}

function hexDigit(b: number): number {
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  if (b >= 0x61 && b <= 0x66) return b - 0x57;
  if (b >= 0x41 && b <= 0x46) return b - 0x37;
  return -1;
}

/** Splits a byte stream into packets, acks and interrupts. */
export class PacketDecoder {
  private state: 'idle' | 'body' | 'cs1' | 'cs2' = 'idle';
  private readonly buf = new Uint8Array(MAX_PACKET);
  private len = 0;
  private sum = 0;
  private overflow = false;
  private cs = 0;

  /** True while a packet has started but not ended (for "bytes while running"). */
  get inPacket(): boolean {
    return this.state !== 'idle';
  }

  push(chunk: Uint8Array, out: (e: RspInput) => void): void {
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      switch (this.state) {
        case 'idle':
          if (b === DOLLAR) this.start();
          else if (b === PLUS) out({ kind: 'ack' });
          else if (b === MINUS) out({ kind: 'nak' });
          else if (b === CTRL_C) out({ kind: 'interrupt' });
          else out({ kind: 'noise', byte: b });
          break;
        case 'body':
          if (b === HASH) this.state = 'cs1';
          else if (b === DOLLAR) this.start(); // resynchronise: the previous packet was cut short
          else {
            this.sum = (this.sum + b) & 0xff;
            if (this.len < MAX_PACKET) this.buf[this.len++] = b;
            else this.overflow = true;
          }
          break;
        case 'cs1': {
          const d = hexDigit(b);
          this.cs = d < 0 ? -1 : d << 4;
          this.state = 'cs2';
          break;
        }
        case 'cs2': {
          const d = hexDigit(b);
          this.state = 'idle';
          if (d < 0 || this.cs < 0 || (this.cs | d) !== this.sum) out({ kind: 'bad-checksum' });
          else if (this.overflow) out({ kind: 'oversized' });
          else out({ kind: 'packet', payload: this.buf.slice(0, this.len) });
          break;
        }
      }
    }
  }

  private start(): void {
    this.state = 'body';
    this.len = 0;
    this.sum = 0;
    this.overflow = false;
  }
}

/** `$payload#cs` for a reply whose payload is already escaped where needed. */
export function frame(payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(payload.length + 4);
  out[0] = DOLLAR;
  out.set(payload, 1);
  out[payload.length + 1] = HASH;
  const cs = checksum(payload);
  out.write(cs.toString(16).padStart(2, '0'), payload.length + 2, 'latin1');
  return out;
}

const MUST_ESCAPE = (b: number): boolean => b === 0x23 || b === 0x24 || b === 0x7d || b === 0x2a;

/** Binary data for replies (qXfer): `#`, `$`, `}` and `*` become `}` (b ^ 0x20). */
export function escapeBinary(data: Uint8Array): Uint8Array {
  let n = data.length;
  for (const b of data) if (MUST_ESCAPE(b)) n++;
  const out = new Uint8Array(n);
  let j = 0;
  for (const b of data) {
    if (MUST_ESCAPE(b)) {
      out[j++] = 0x7d;
      out[j++] = b ^ 0x20;
    } else out[j++] = b;
  }
  return out;
}

/** Undoes `}`-escapes (X packets); null when the data ends with a lone `}`. */
export function unescapeBinary(data: Uint8Array): Uint8Array | null {
  const out = new Uint8Array(data.length);
  let j = 0;
  for (let i = 0; i < data.length; i++) {
    const b = data[i]!;
    if (b === 0x7d) {
      if (i + 1 >= data.length) return null;
      out[j++] = data[++i]! ^ 0x20;
    } else out[j++] = b;
  }
  return out.subarray(0, j);
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Strict hex decoding: null for odd length or any non-hex character. */
export function fromHex(text: string): Uint8Array | null {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) return null;
  return Uint8Array.from(Buffer.from(text, 'hex'));
}

/** A hex number of at most `maxDigits` digits (no sign, no 0x), or null. */
export function parseHex(text: string, maxDigits = 8): number | null {
  if (text.length === 0 || text.length > maxDigits || !/^[0-9a-fA-F]+$/.test(text)) return null;
  return parseInt(text, 16);
}

/** Little-endian hex of an unsigned value of `size` bytes (size <= 4). */
export function leHex(value: number, size: number): string {
  let s = '';
  let v = value >>> 0;
  for (let i = 0; i < size; i++) {
    s += (v & 0xff).toString(16).padStart(2, '0');
    v >>>= 8;
  }
  return s;
}

export function hexOfText(text: string): string {
  return Buffer.from(text, 'utf8').toString('hex');
}

export function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}
