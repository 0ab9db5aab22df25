// --record FILE: writes the start state, then every input from outside the guest at the
// point of the run it arrived at (src/replay/recording.ts), as the run goes.
import { closeSync, openSync, writeSync } from 'node:fs';
import type { MachineRunOptions, MachineStop, PcMachine, RunObserver } from '../machine/pc-machine.js';
import { machineFingerprint, snapshotEngine } from '../snapshot/machine-snapshot.js';
import { encodeSnapshotFile } from '../snapshot/snapshot-file.js';
import { UserError } from '../user-error.js';
import { encodeChunk, encodeRecordingHead } from './recording.js';
import { LogTaker } from './log-taker.js';

/** Events buffered before a chunk is written (and at least once a second while running). */
const CHUNK_EVENTS = 256;
const CHUNK_OUT = 8192;
const CHUNK_MS = 1000;

export class Recorder implements RunObserver {
  private fd: number;
  private readonly log: LogTaker;
  private lastFlush = Date.now();
  private finished = false;

  constructor(readonly machine: PcMachine, readonly path: string, boot: string) {
    try {
      this.fd = openSync(path, 'w');
    } catch (e) {
      throw new UserError(`--record ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    const m = machine;
    const start = snapshotEngine(m).take();
    const snapshot = encodeSnapshotFile([{ name: 'start', date: Date.now(), snapshot: start }]);
    snapshotEngine(m).release(start);
    this.write(encodeRecordingHead({
      writer: 'bmbt-dbg', fingerprint: machineFingerprint(m), boot, started: Date.now(), snapshotBytes: snapshot.length,
    }, snapshot));
    this.log = new LogTaker(m);
    m.runObserver = this;
    m.inputGate = (e) => {
      if (!this.finished) this.log.input(e);
      return true;
    };
    m.serialTaps.add(this.log.serial);
    m.clock.onRateChange = (ns) => {
      if (!this.finished) this.log.rate(ns);
    };
  }

  run(maxInsns: number, opts: MachineRunOptions, inner: (n: number, o: MachineRunOptions) => MachineStop): MachineStop {
    const stop = this.log.run(maxInsns, opts, inner);
    if (this.log.events.length >= CHUNK_EVENTS || this.log.out.length >= CHUNK_OUT || Date.now() - this.lastFlush > CHUNK_MS) this.flush();
    return stop;
  }

  private flush(): void {
    const { events, out } = this.log;
    if (events.length === 0 && out.length === 0) return;
    this.write(encodeChunk(events, out));
    this.log.events = [];
    this.log.out = [];
    this.lastFlush = Date.now();
  }

  private write(b: Uint8Array): void {
    let off = 0;
    while (off < b.length) off += writeSync(this.fd, b, off, b.length - off);
  }

  /** The run is over: write what is left and the end. Safe to call more than once. */
  finish(how: string): void {
    if (this.finished) return;
    this.log.events.push({ k: 'end', p: this.log.position(), how });
    this.flush();
    this.finished = true;
    closeSync(this.fd);
    const m = this.machine;
    if (m.runObserver === this) m.runObserver = null;
    m.inputGate = null;
    m.serialTaps.delete(this.log.serial);
    m.clock.onRateChange = null;
  }
}
