// At the end of an instruction budget (a slice end, the next timer) the loop runs what
// fits. It used to translate a full block at every instruction boundary there, find that
// it did not fit and run one instruction instead: up to 64 translations per budget edge
// that never ran (issue 10). Now no block is translated that is not run.
import { describe, expect, it } from 'vitest';
import { bootSample, sample } from '../support/samples.js';

describe('the end of a budget', () => {
  it('translates no block that does not run, and the guest runs as with large budgets', () => {
    const s = bootSample('hello');
    const m = s.pc;
    for (let i = 0; i < 200_000; i++) {
      const stop = m.run(7);
      if (stop.kind === 'exit') break;
    }
    expect(s.serial()).toBe(sample('hello').serial);
    expect(m.exec.tbs.execCountHistogram()[0]).toBe(0);
  });
});
