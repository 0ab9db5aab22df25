// A writer for the "newc" cpio format (SVR4 without CRC, magic 070701), the format the
// Linux kernel unpacks an initramfs from (Documentation/driver-api/early-userspace/
// buffer-format.rst). Writing it ourselves lets the corpus hold device nodes
// (/dev/console) without root and gives byte-identical archives: inode numbers are
// assigned in order, and every timestamp and owner is 0.

/** One archive member. Directories and device nodes have no data. */
export type CpioEntry =
  | { kind: 'dir'; path: string; mode?: number }
  | { kind: 'file'; path: string; data: Uint8Array; mode?: number }
  | { kind: 'symlink'; path: string; target: string }
  | { kind: 'chardev'; path: string; major: number; minor: number; mode?: number };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

const enc = new TextEncoder();

function hex8(v: number): string {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new Error(`cpio: field ${v} does not fit 8 hex digits`);
  return v.toString(16).toUpperCase().padStart(8, '0');
}

/** Zero bytes that bring `length` to a multiple of 4 (header+name and data are each padded). */
function pad4(length: number): Uint8Array {
  return new Uint8Array((4 - (length % 4)) % 4);
}

interface Header {
  ino: number;
  mode: number;
  nlink: number;
  size: number;
  rdevMajor: number;
  rdevMinor: number;
  name: string;
}

function member(h: Header, data: Uint8Array): Uint8Array[] {
  const name = enc.encode(h.name + '\0');
  // c_magic, c_ino, c_mode, c_uid, c_gid, c_nlink, c_mtime, c_filesize, c_devmajor,
  // c_devminor, c_rdevmajor, c_rdevminor, c_namesize, c_check
  const header = '070701' + [h.ino, h.mode, 0, 0, h.nlink, 0, h.size, 0, 0, h.rdevMajor, h.rdevMinor, name.length, 0].map(hex8).join('');
  const head = enc.encode(header);
  return [head, name, pad4(head.length + name.length), data, pad4(data.length)];
}

/** The archive: members in the order given (parents before children), then the trailer. */
export function writeCpio(entries: readonly CpioEntry[]): Uint8Array {
  const parts: Uint8Array[] = [];
  let ino = 1;
  for (const e of entries) {
    const name = e.path.replace(/^\/+/, '');
    if (name.length === 0) throw new Error('cpio: empty path');
    let h: Header;
    let data: Uint8Array = new Uint8Array(0);
    switch (e.kind) {
      case 'dir':
        h = { ino, mode: S_IFDIR | (e.mode ?? 0o755), nlink: 2, size: 0, rdevMajor: 0, rdevMinor: 0, name };
        break;
      case 'file':
        data = e.data;
        h = { ino, mode: S_IFREG | (e.mode ?? 0o644), nlink: 1, size: data.length, rdevMajor: 0, rdevMinor: 0, name };
        break;
      case 'symlink':
        // A symlink's data is its target, without a terminating NUL.
        data = enc.encode(e.target);
        h = { ino, mode: S_IFLNK | 0o777, nlink: 1, size: data.length, rdevMajor: 0, rdevMinor: 0, name };
        break;
      case 'chardev':
        h = { ino, mode: S_IFCHR | (e.mode ?? 0o600), nlink: 1, size: 0, rdevMajor: e.major, rdevMinor: e.minor, name };
        break;
    }
    ino++;
    parts.push(...member(h, data));
  }
  parts.push(...member({ ino: 0, mode: 0, nlink: 1, size: 0, rdevMajor: 0, rdevMinor: 0, name: 'TRAILER!!!' }, new Uint8Array(0)));
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
