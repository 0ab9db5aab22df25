// A raw disk image in a file, opened as QEMU's file driver opens it: read-only unless the
// drive may write it, checked (a regular file of at least one sector, not qcow2 unless
// format=raw says so), and locked as QEMU locks it, so that neither another bmbt-dbg nor
// a QEMU uses the same image at the same time. Writes go to the file at once, in order
// (pwrite, no cache of our own); flush() is fsync.
//
// The lock is QEMU 7.2's (measured in /proc/locks): open file description (OFD) read
// locks on byte 100 + p for each permission p held (0 consistent read, 1 write, 3
// resize) and 200 + p for each one not shared with others. A writer holds 100, 101 and
// 201; a reader (a CD-ROM, a read-only floppy, -snapshot's base) 100, 201 and 203: it
// lets nobody write under it. An image is refused when another process holds a byte
// that conflicts: 200 + p for a permission we take, 100 + p for one we do not share
// (a writer tests 200, 201, 101; a reader 200, 101, 103). Node
// has no fcntl(), so a small perl process (perl-base is part of every Debian) takes
// the locks and holds them while it lives; it ends when our process ends (its stdin
// closes), which releases them.
import { closeSync, fstatSync, fsyncSync, openSync, readFileSync, readSync, statSync, writeSync } from 'node:fs';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { UserError, systemErrorText } from '../user-error.js';
import { SECTOR_SIZE, type BlockBackend } from './block-image.js';

export type ImageFormat = 'raw';

const QCOW_MAGIC = [0x51, 0x46, 0x49, 0xfb];

const LOCK_PERM_BASE = 100;
const LOCK_SHARED_BASE = 200;
const PERM_READ = 0;
const PERM_WRITE = 1;
const PERM_RESIZE = 3;

/** The perl that tests and takes QEMU's OFD locks; argv: file, mode (check|hold), then bytes. */
const LOCK_SCRIPT = String.raw`
use strict; use Fcntl;
my ($file, $mode, @bytes) = @ARGV;
open(my $f, '<', $file) or do { print "error $!\n"; exit 3 };
my ($GETLK, $SETLK) = (36, 37);
for my $b (@bytes) {
  my ($what, $byte) = split /:/, $b;
  if ($what eq 'test') {
    my $fl = pack('s s x4 q q i x4', 1, 0, $byte, 1, 0);
    fcntl($f, $GETLK, $fl) or do { print "error $!\n"; exit 3 };
    my ($type) = unpack('s', $fl);
    if ($type != 2) { print "busy $byte\n"; exit 1 }
  } else {
    my $fl = pack('s s x4 q q i x4', 0, 0, $byte, 1, 0);
    fcntl($f, $SETLK, $fl) or do { print "busy $byte\n"; exit 1 };
  }
}
$| = 1; print "ok\n";
exit 0 if $mode eq 'check';
my $line = <STDIN>;
`;

export interface OpenImageOptions {
  /** How the user named it, for messages ("-hda disk.img"). */
  what: string;
  /** The guest may write it (a hard disk or a writable floppy without -snapshot). */
  writable: boolean;
  /** format= as given (undefined: probe, as QEMU does, which here means "not qcow2"). */
  format?: string;
  /** Take QEMU's lock (default true). */
  lock?: boolean;
}

export class FileImage implements BlockBackend {
  readonly size: number;
  readonly readOnly: boolean;
  private fd: number | null;
  private locker: ChildProcess | null = null;
  private readonly onExit = (): void => this.close();

  private constructor(readonly name: string, fd: number, size: number, readOnly: boolean) {
    this.fd = fd;
    this.size = size;
    this.readOnly = readOnly;
    process.on('exit', this.onExit);
  }

  /** Open and check an image; every problem is a one-line UserError, and nothing is written. */
  static open(path: string, opts: OpenImageOptions): FileImage {
    const what = `${opts.what} ${path}`;
    if (opts.format !== undefined && opts.format !== 'raw') {
      if (opts.format === 'qcow2') throw new UserError(`${what}: qcow2 images are not supported (convert it: qemu-img convert -O raw ${path} image.raw)`);
      throw new UserError(`${what}: unknown format "${opts.format}" (only raw)`);
    }
    let st;
    try {
      st = statSync(path);
    } catch (e) {
      throw new UserError(`${what}: ${systemErrorText(e)}`);
    }
    if (st.isDirectory()) throw new UserError(`${what}: is a directory`);
    if (!st.isFile() && !st.isBlockDevice()) throw new UserError(`${what}: not a regular file`);
    let fd: number;
    try {
      fd = openSync(path, opts.writable ? 'r+' : 'r');
    } catch (e) {
      // QEMU says only "Permission denied" (status 1); the way out is worth a clause.
      const hint = opts.writable && (e as NodeJS.ErrnoException).code === 'EACCES' ? ' (the guest may write this drive, so it is opened for writing; -snapshot opens it read-only)' : '';
      throw new UserError(`${what}: ${systemErrorText(e)}${hint}`);
    }
    try {
      const size = fstatSync(fd).size;
      if (size < SECTOR_SIZE) throw new UserError(`${what}: the image is ${size} bytes, smaller than one 512-byte sector`);
      if (opts.format === undefined) {
        const head = new Uint8Array(4);
        readSync(fd, head, 0, 4, 0);
        if (QCOW_MAGIC.every((b, i) => head[i] === b)) {
          throw new UserError(`${what}: this is a qcow2 image, which bmbt-dbg does not read (convert it: qemu-img convert -O raw ${path} image.raw)`);
        }
      }
      const img = new FileImage(path, fd, Math.floor(size / SECTOR_SIZE) * SECTOR_SIZE, !opts.writable);
      if (opts.lock !== false) img.lock(what, opts.writable);
      return img;
    } catch (e) {
      if (e instanceof UserError) {
        try { closeSync(fd); } catch { /* closing a file we only read */ }
      }
      throw e;
    }
  }

  private lock(what: string, writable: boolean): void {
    // Bytes whose holders we conflict with, then the bytes we hold (QEMU's layout): both
    // kinds take consistent reads and share neither writes nor, for a reader, resizes.
    const perms = writable ? [PERM_READ, PERM_WRITE] : [PERM_READ];
    const unshared = writable ? [PERM_WRITE] : [PERM_WRITE, PERM_RESIZE];
    const test = [...perms.map((p) => LOCK_SHARED_BASE + p), ...unshared.map((p) => LOCK_PERM_BASE + p)];
    const hold = [...perms.map((p) => LOCK_PERM_BASE + p), ...unshared.map((p) => LOCK_SHARED_BASE + p)];
    const args = ['-e', LOCK_SCRIPT, this.name];
    const check = spawnSync('perl', [...args, 'check', ...test.map((b) => `test:${b}`)], { encoding: 'utf8', timeout: 10_000 });
    if (check.error) {
      process.stderr.write(`bmbt-dbg: note: ${what}: not locked (perl is needed to take QEMU's image lock)\n`);
      return;
    }
    if (check.status === 1) {
      this.close();
      throw new UserError(`${what}: the image is in use by another process (QEMU or bmbt-dbg holds its lock)`);
    }
    if (check.status !== 0) {
      process.stderr.write(`bmbt-dbg: note: ${what}: not locked (${check.stdout.trim() || 'lock check failed'})\n`);
      return;
    }
    const p = spawn('perl', [...args, 'hold', ...hold.map((b) => `hold:${b}`)], { stdio: ['pipe', 'ignore', 'ignore'] });
    p.on('error', () => {});
    p.unref();
    (p.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    this.locker = p;
  }

  private live(): number {
    if (this.fd === null) throw new Error(`${this.name}: image used after close`);
    return this.fd;
  }

  read(offset: number, out: Uint8Array): void {
    const fd = this.live();
    let done = 0;
    while (done < out.length) {
      const n = readSync(fd, out, done, out.length - done, offset + done);
      if (n === 0) {
        out.fill(0, done);
        return;
      }
      done += n;
    }
  }

  write(offset: number, data: Uint8Array): void {
    const fd = this.live();
    let done = 0;
    while (done < data.length) done += writeSync(fd, data, done, data.length - done, offset + done);
  }

  flush(): void {
    if (this.fd !== null && !this.readOnly) fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd !== null) {
      try {
        this.flush();
      } finally {
        closeSync(this.fd);
        this.fd = null;
      }
    }
    process.off('exit', this.onExit);
    if (this.locker) {
      const pid = this.locker.pid;
      this.locker.kill('SIGKILL');
      this.locker = null;
      // The locks go with the helper's open file: once close() returns, another process
      // (or a `change` back to this image) must find the image free, as after QEMU's eject.
      if (pid !== undefined) waitForExit(pid, 1000);
    }
  }
}

/** Wait (synchronously, at most `ms`) until process `pid` has exited: gone or a zombie, its files closed. */
function waitForExit(pid: number, ms: number): void {
  const end = Date.now() + ms;
  const cell = new Int32Array(new SharedArrayBuffer(4));
  while (Date.now() < end) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    } catch {
      return;
    }
    const state = stat.charAt(stat.lastIndexOf(')') + 2);
    if (state === 'Z' || state === 'X') return;
    Atomics.wait(cell, 0, 0, 1);
  }
}
