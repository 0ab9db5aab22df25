// --replay FILE (QEMU's rr=replay): the machine starts in the recording's start state and
// takes its inputs from the recording (src/replay/log-player.ts). Live input is dropped
// until the recording ends; a change the user makes (a register, memory, a reset) ends
// the replay there. After the end the machine runs on live.
import type { MachineRunOptions, MachineStop, PcMachine, RunObserver } from '../machine/pc-machine.js';
import { fingerprintDifference, snapshotEngine } from '../snapshot/machine-snapshot.js';
import { decodeSnapshotFile } from '../snapshot/snapshot-file.js';
import { safeRestore } from '../snapshot/named-snapshots.js';
import { RecordingError, type Recording } from './recording.js';
import { LogPlayer, type Inner } from './log-player.js';

export { ReplayDivergence } from './log-player.js';

export class Replayer implements RunObserver {
  private readonly player: LogPlayer;
  /** Told once when the replay ends (the recording's end, or an edit by the user). */
  onEnd: (why: string) => void = () => {};

  constructor(readonly machine: PcMachine, readonly rec: Recording, what: string) {
    const m = machine;
    const engine = snapshotEngine(m);
    if (rec.header.fingerprint !== engine.fingerprint) {
      throw new RecordingError(`${what}: ${fingerprintDifference(engine.fingerprint, rec.header.fingerprint).replace('the snapshot is', 'the recording is')}`);
    }
    const [start] = decodeSnapshotFile(rec.snapshotFile, engine, what);
    if (!start) throw new RecordingError(`${what}: the recording has no start state`);
    safeRestore(engine, start.snapshot);
    engine.release(start.snapshot);
    this.player = new LogPlayer(m, rec.events, 0, rec.out, 0);
    this.player.onEnd = (why) => this.ended(why);
    if (m.icountAuto) m.icountAuto.frozen = true;
    m.runObserver = this;
    m.inputGate = (e) => {
      const p = this.player;
      if (p.applying || p.live) return true;
      if (e.kind === 'serial' || e.kind === 'keyboard') return false; // the recording's inputs, not live ones
      // The user changed the machine: what follows is not the recording any more.
      p.goLive(`the user changed the machine (${e.kind}) at instruction ${m.cpu.icount}`);
      return true;
    };
    m.serialTaps.add(this.player.serial);
  }

  get live(): boolean {
    return this.player.live;
  }

  /** Inputs still to come from the recording. */
  get pending(): number {
    return this.player.pending;
  }

  private ended(why: string): void {
    const m = this.machine;
    if (m.icountAuto) m.icountAuto.frozen = false;
    this.onEnd(why);
  }

  run(maxInsns: number, opts: MachineRunOptions, inner: Inner): MachineStop {
    return this.player.run(maxInsns, opts, inner);
  }
}

