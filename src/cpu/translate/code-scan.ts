// Reading generated JavaScript by its names, for the rewrites done before a TB or region is
// compiled (inline-memory.ts, register-locals.ts) and the first tier's templates
// (threaded.ts): the generators' code is regular, but a string or a comment may hold anything.

export const isIdPart = (ch: number): boolean =>
  (ch >= 65 && ch <= 90) || (ch >= 97 && ch <= 122) || (ch >= 48 && ch <= 57) || ch === 95 || ch === 36;

/** Index just past the string literal opening at `i`. */
export function stringEnd(code: string, i: number): number {
  const q = code.charCodeAt(i++);
  while (i < code.length && code.charCodeAt(i) !== q) i += code.charCodeAt(i) === 92 ? 2 : 1;
  return i + 1;
}

/**
 * Calls `visit(name, start, end)` for each name (dotted: `Math.imul`; numbers come as
 * names too) outside strings and comments. A visit returns where to go on from (at least
 * `end`), or -1 to stop: then the result is false.
 */
export function scanNames(code: string, visit: (name: string, at: number, after: number) => number): boolean {
  const n = code.length;
  let i = 0;
  while (i < n) {
    const ch = code.charCodeAt(i);
    if (ch === 39 || ch === 34 || ch === 96) {
      i = stringEnd(code, i);
      continue;
    }
    if (ch === 47 && code.charCodeAt(i + 1) === 47) {
      while (i < n && code.charCodeAt(i) !== 10) i++;
      continue;
    }
    if (!isIdPart(ch)) {
      i++;
      continue;
    }
    const at = i;
    while (i < n && (isIdPart(code.charCodeAt(i)) || (code.charCodeAt(i) === 46 && isIdPart(code.charCodeAt(i + 1))))) i++;
    const go = visit(code.slice(at, i), at, i);
    if (go < 0) return false;
    i = go;
  }
  return true;
}
