// Command-line options of time travel, applied to the machine once it is built and
// booted: --snapshot-file and -loadvm (named snapshots kept across runs), --record and
// --replay (a run's inputs, replayed instruction for instruction).
import { createHash, type Hash } from 'node:crypto';
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import type { PcMachine } from '../src/machine/pc-machine.js';
import type { CliOptions } from './options.js';
import { namedSnapshots } from '../src/snapshot/named-snapshots.js';
import { UserError } from '../src/user-error.js';
import { Recorder } from '../src/replay/recorder.js';
import { Replayer } from '../src/replay/replayer.js';
import { decodeRecording, RecordingError } from '../src/replay/recording.js';

export interface TimeTravel {
  recorder: Recorder | null;
  replayer: Replayer | null;
}

/**
 * What a guest reset boots again besides the firmware (which the machine fingerprint
 * covers): the direct boot's images and command line. A replay needs the same.
 */
/** An image into the digest in 1 MiB pieces (disk images can be larger than a buffer). */
function hashImage(h: Hash, path: string): void {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    h.update(`missing ${path}`);
    return;
  }
  try {
    const buf = Buffer.alloc(1 << 20);
    for (let pos = 0; ; ) {
      const n = readSync(fd, buf, 0, buf.length, pos);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
      pos += n;
    }
  } finally {
    closeSync(fd);
  }
}

export function bootDigest(opts: CliOptions): string {
  const h = createHash('sha256');
  const file = (p: string | null): void => {
    if (p === null) return h.update('-') as unknown as void;
    try {
      h.update(readFileSync(p));
    } catch {
      h.update(`missing ${p}`);
    }
  };
  file(opts.kernel);
  for (const p of opts.initrd) file(p);
  for (const l of opts.loads) {
    file(l.path);
    h.update(String(l.addr));
  }
  file(opts.bootSector);
  // The drives and their contents (a replay must start from the same disks).
  for (const d of opts.drives) {
    h.update(`${d.interface}${d.unit}${d.media}`);
    hashImage(h, d.path);
  }
  h.update(`${opts.append}\0${opts.entry ?? ''}`);
  return h.digest('hex').slice(0, 16);
}

export function applyTimeTravelOptions(machine: PcMachine, opts: CliOptions): TimeTravel {
  const tt: TimeTravel = { recorder: null, replayer: null };
  if (opts.snapshotFile !== null) {
    const shelf = namedSnapshots(machine);
    shelf.openFile(opts.snapshotFile);
    // Before the images close at exit: the file is written again if the disks moved on.
    process.prependListener('exit', () => {
      try {
        shelf.syncAtExit();
      } catch (e) {
        process.stderr.write(`bmbt-dbg: ${(e as Error).message}\n`);
      }
    });
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
  if (opts.replay !== null) {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(opts.replay);
    } catch (e) {
      throw new UserError(`--replay ${opts.replay}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    const rec = decodeRecording(bytes, opts.replay);
    if (rec.header.boot !== bootDigest(opts)) {
      throw new RecordingError(`${opts.replay}: the recording was made with other boot images or another command line (-kernel, -initrd, -append, --load, --boot-sector, the drives)`);
    }
    tt.replayer = new Replayer(machine, rec, opts.replay);
    tt.replayer.onEnd = (why) => process.stderr.write(`bmbt-dbg: replay: ${why}; the guest runs on live\n`);
  }
  if (opts.record !== null) {
    const rec = new Recorder(machine, opts.record, bootDigest(opts));
    tt.recorder = rec;
    process.on('exit', (code) => rec.finish(`process exit ${code}`));
  }
  return tt;
}
