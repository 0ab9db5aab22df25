// Regions (hot TBs of a page compiled into one function) are rebuilt from the TBs' guest
// bytes, since TBs drop their decoded instructions once compiled (issue 10, memory): the
// bytecode interpreter sample forms regions and computes the same result as without them.
import { describe, expect, it } from 'vitest';
import { bootSample, sample } from '../support/samples.js';

function runToExit(name: string): { serial: string; regions: number; decodedKept: number } {
  const s = bootSample(name);
  const m = s.pc;
  for (let i = 0; i < 1000; i++) {
    const stop = m.run(5_000_000);
    if (stop.kind === 'exit') break;
  }
  const tbs = m.exec.tbs.all();
  return {
    serial: s.serial(),
    regions: m.exec.tbs.stats.regionsBuilt,
    decodedKept: tbs.filter((t) => t.decoded.length > 0).length,
  };
}

describe('regions', () => {
  it('form in a hot interpreter loop, from re-decoded bytes, with the right result', () => {
    const r = runToExit('interp');
    expect(r.regions).toBeGreaterThan(0);
    expect(r.serial).toBe(sample('interp').serial);
    // No TB keeps its decoded instructions after translation.
    expect(r.decodedKept).toBe(0);
  });
});
