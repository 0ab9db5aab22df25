// The 64 K port space. Devices register their ports in one place at construction;
// unclaimed ports read as all ones and ignore writes, as on a PC.

export interface PortHandler {
  read(port: number, size: number): number;
  write(port: number, value: number, size: number): void;
}

export interface PortClaim {
  readonly first: number;
  readonly count: number;
  readonly name: string;
}

export interface IoObserver {
  (port: number, value: number, size: number, write: boolean): void;
}

export class IoBus {
  private readonly handlers: (PortHandler | undefined)[] = new Array<PortHandler | undefined>(0x10000);
  private readonly names: (string | undefined)[] = new Array<string | undefined>(0x10000);
  readonly claims: PortClaim[] = [];
  observer: IoObserver | null = null;

  register(first: number, count: number, handler: PortHandler, name: string): void {
    for (let p = first; p < first + count; p++) {
      if (this.handlers[p]) throw new Error(`port 0x${p.toString(16)} claimed by ${this.names[p]} and ${name}`);
      this.handlers[p] = handler;
      this.names[p] = name;
    }
    this.claims.push({ first, count, name });
  }

  ownerOf(port: number): string | undefined {
    return this.names[port & 0xffff];
  }

  read(port: number, size: number): number {
    port &= 0xffff;
    const h = this.handlers[port];
    let v: number;
    if (h) v = h.read(port, size);
    else if (size === 1) v = 0xff;
    else if (size === 2) v = 0xffff;
    else v = 0xffffffff;
    v = size === 1 ? v & 0xff : size === 2 ? v & 0xffff : v >>> 0;
    if (this.observer) this.observer(port, v, size, false);
    return v;
  }

  write(port: number, value: number, size: number): void {
    port &= 0xffff;
    value = size === 1 ? value & 0xff : size === 2 ? value & 0xffff : value >>> 0;
    if (this.observer) this.observer(port, value, size, true);
    this.handlers[port]?.write(port, value, size);
  }
}
