// Command-line options of time travel: --snapshot-file and -loadvm (named snapshots kept
// across runs), applied to the machine once it is built and booted.
import type { PcMachine } from '../src/machine/pc-machine.js';
import type { CliOptions } from './options.js';
import { namedSnapshots } from '../src/snapshot/named-snapshots.js';
import { UserError } from '../src/user-error.js';

export function applyTimeTravelOptions(machine: PcMachine, opts: CliOptions): void {
  if (opts.snapshotFile === null) return;
  const shelf = namedSnapshots(machine);
  shelf.openFile(opts.snapshotFile);
  if (opts.loadvm !== null) {
    if (!shelf.find(opts.loadvm)) throw new UserError(`-loadvm: ${opts.snapshotFile} has no snapshot named '${opts.loadvm}'`);
    try {
      shelf.load(opts.loadvm);
    } catch (e) {
      if (e instanceof UserError) throw new UserError(`-loadvm ${opts.loadvm}: ${e.message}`);
      throw e;
    }
  }
}
