// Errors the user can cause (files, options, images): a message for one line on
// stderr and exit status 2. Everything else is a bug and keeps its stack.
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

const SYSTEM_ERRORS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EISDIR: 'is a directory',
  ENOTDIR: 'a part of the path is not a directory',
  EACCES: 'permission denied',
  EPERM: 'not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EMFILE: 'too many open files',
  EADDRINUSE: 'the address is in use (another program listens there)',
  EADDRNOTAVAIL: 'no such address on this machine',
  EAFNOSUPPORT: 'address family not supported',
};

/** A failed system call (open, listen, ...) in words, for a UserError. */
export function systemErrorText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err?.code && SYSTEM_ERRORS[err.code]) return SYSTEM_ERRORS[err.code]!;
  // Node's message is "CODE: words, syscall 'path'": keep the words.
  const m = /^[A-Z]+: ([^,]+)/.exec(err?.message ?? '');
  return m ? m[1]! : (err?.message ?? String(e));
}
