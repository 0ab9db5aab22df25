// Compiled TBs and regions keep the guest's registers in locals (translate/
// register-locals.ts) where nothing else can look at them mid-block. The registers must
// be in c.regs at every way out: a return, and a fault thrown to the CPU loop.
import { describe, expect, it } from 'vitest';
import { registerLocals } from '../../src/cpu/translate/register-locals.js';

type Cc = { ccOp: number; ccDst: number; ccSrc: number; ccAux: number };

function compile(body: string, withLocals: boolean): (R: Int32Array, ld32: (a: number) => number, c: Cc) => number {
  const l = withLocals ? registerLocals(body) : null;
  if (withLocals && l === null) throw new Error('not rewritten');
  const text = `${l?.load ?? ''}\ntry {\n${l?.body ?? body}\n} catch (e) { ${l?.writeBack ?? ''} throw e; }`;
  return new Function('R', 'ld32', 'c', text) as (R: Int32Array, ld32: (a: number) => number, c: Cc) => number;
}

describe('registerLocals', () => {
  it('puts the registers the code names in locals and writes back the ones it assigns at each return', () => {
    const l = registerLocals('const x = R[1];\nR[0] = (x + R[2]) | 0;\nif (x) { c.eip = 5; return 0; }\nreturn 1;')!;
    expect(l.load).toBe('let r$0 = R[0], r$1 = R[1], r$2 = R[2];');
    expect(l.writeBack).toBe('R[0] = r$0;');
    expect(l.body).toBe('const x = r$1;\nr$0 = (x + r$2) | 0;\nif (x) { c.eip = 5; { R[0] = r$0; return 0; } }\n{ R[0] = r$0; return 1; }');
    // compound assignments and ++/-- count as assignments too
    expect(registerLocals('R[3] += 1; R[4]++; --R[5]; R[6] >>>= 2; x = R[7] === 1; return 0;')!.writeBack)
      .toBe('R[3] = r$3; R[4] = r$4; R[5] = r$5; R[6] = r$6;');
  });

  it('puts the lazy flags in locals too, unless a call reads or writes them', () => {
    const code = 'c.ccDst = R[1]; c.ccOp = 9; if (c.ccDst === 0) return 0; return 1;';
    const l = registerLocals(code)!;
    expect(l.load).toBe('let r$1 = R[1], f$dst = c.ccDst, f$op = c.ccOp;');
    expect(l.writeBack).toBe('c.ccDst = f$dst; c.ccOp = f$op;');
    expect(l.body).toBe('f$dst = r$1; f$op = 9; if (f$dst === 0) { c.ccDst = f$dst; c.ccOp = f$op; return 0; } { c.ccDst = f$dst; c.ccOp = f$op; return 1; }');
    // H.cond and c.getCarry read the fields: the registers still go to locals, the flags do not
    for (const call of ['H.cond(2)', 'c.getCarry()', 'H.setCfOf(1, 0)']) {
      const m = registerLocals(`c.ccDst = R[1]; if (${call}) return 0; return 1;`)!;
      expect(m.load).toBe('let r$1 = R[1];');
      expect(m.body).toContain('c.ccDst = r$1;');
    }
  });

  it('leaves code alone where a call could look at the registers, or it cannot follow them', () => {
    for (const code of [
      'R[0] = 1; H.pushf(); return 0;', // a helper that reads or writes c.regs
      'R[0] = 1; c.segAddr(3, R[1], 4, false); return 0;',
      'R[0] = R[k]; return 0;', // a register by a computed index
      'R[0] = 1; return r;', // a way out that is not `return <number>;`
      'c.eip = 1; return 0;', // no register at all: nothing to gain
      'R[0] = M[1].fn(); return 0;',
    ]) expect(registerLocals(code)).toBeNull();
    // memory paths and flag helpers are fine; names inside strings and comments are not looked at
    expect(registerLocals('R[0] = ld32(a); st8(a, R[1]); H.setCfOf(1, 0); Math.imul(R[0], 3); // H.pushf()\nH.cond("x(");\nreturn 2;')).not.toBeNull();
  });

  it('gives c.regs and the flags what the code without locals gives, on a return and on a fault', () => {
    const body = [
      'const a = R[5];',
      'R[0] = (R[0] + ld32(a)) | 0;',
      'R[1] = R[0] ^ R[2];',
      'c.ccDst = R[1]; c.ccSrc = R[2]; c.ccOp = 15;',
      'const b = (a + 4) | 0;',
      'R[2] = ld32(b);',
      'if (R[2] < 0) return 1;',
      'R[3] = R[3] - 1;',
      'c.ccAux = c.ccDst + 1;',
      'return 0;',
    ].join('\n');
    for (const faultAt of [-1, 0, 4]) {
      for (const v of [7, -7]) {
        const results = [false, true].map((locals) => {
          const R = new Int32Array([10, 20, 30, 40, 50, 0, 60, 70]);
          const c: Cc = { ccOp: 1, ccDst: 2, ccSrc: 3, ccAux: 4 };
          const ld32 = (a: number): number => {
            if (a === faultAt) throw new Error('#PF');
            return a === 0 ? 5 : v;
          };
          let out: number | string;
          try {
            out = compile(body, locals)(R, ld32, c);
          } catch (e) {
            out = (e as Error).message;
          }
          return { out, R: Array.from(R), c };
        });
        expect(results[1]).toEqual(results[0]);
      }
    }
  });
});
