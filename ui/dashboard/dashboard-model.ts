// The dashboard's numbers, sampled from the machine a few times a second: guest MIPS,
// translation rate, TB-cache occupancy, IRQ rate per line, the hottest TBs and a log of
// notable events (flushes, invalidations, exceptions, resets, stops). No blessed here, so
// it is tested on its own.
import type { DebugController } from '../../src/debug/controller.js';
import type { MachineEvent } from '../../src/events/machine-events.js';
import { symbolText } from '../model/tb-view.js';
import { describeStop } from '../model/ui-session.js';

export interface DashboardSample {
  /** Seconds since the dashboard started. */
  t: number;
  mips: number;
  translationsPerSec: number;
  occupancy: number;
  live: number;
  limit: number;
  irqPerSec: number[];
  hottest: { id: number; pc: number; symbol: string; ninsns: number; execCount: number }[];
  state: string;
  icount: number;
}

const LOGGED: ReadonlySet<MachineEvent['kind']> = new Set(['tb-flush', 'tb-invalidate', 'exception', 'exception-storm', 'reset', 'unimplemented']);

export class DashboardModel {
  readonly history: DashboardSample[] = [];
  private last: { t: number; icount: number; translations: number; raised: number[] };
  private readonly t0: number;
  private ringTotals: Record<string, number>;
  private readonly pendingLog: string[] = [];
  private readonly unsubscribe: () => void;

  constructor(readonly ctl: DebugController, private readonly now: () => number = () => performance.now(), readonly keep = 120) {
    const m = ctl.machine;
    this.t0 = now();
    this.last = { t: this.t0, icount: m.cpu.icount, translations: m.exec.tbs.stats.translations, raised: m.pic.info().lines.map((l) => l.raised) };
    this.ringTotals = Object.fromEntries(Object.entries(m.events.rings).map(([k, r]) => [k, r.total]));
    this.unsubscribe = ctl.subscribe((e) => {
      if (e.type === 'stop') this.pendingLog.push(`stopped: ${describeStop(ctl, e.reason)}`);
      else if (e.type === 'resume') this.pendingLog.push(`running (${e.by})`);
    });
  }

  dispose(): void {
    this.unsubscribe();
  }

  /** Take a sample now (call it at the dashboard's refresh rate). */
  sample(): DashboardSample {
    const m = this.ctl.machine;
    const t = this.now();
    const dt = Math.max(1e-3, (t - this.last.t) / 1000);
    const stats = m.exec.tbs.stats;
    const raised = m.pic.info().lines.map((l) => l.raised);
    const tbs = m.exec.tbs;
    const hottest = tbs
      .all()
      .sort((a, b) => b.execCount - a.execCount)
      .slice(0, 12)
      .map((tb) => ({ id: tb.id, pc: tb.pc, symbol: symbolText(this.ctl, tb.pc) ?? '', ninsns: tb.ninsns, execCount: tb.execCount }));
    const s: DashboardSample = {
      t: (t - this.t0) / 1000,
      mips: (m.cpu.icount - this.last.icount) / dt / 1e6,
      translationsPerSec: (stats.translations - this.last.translations) / dt,
      occupancy: tbs.size / tbs.maxTbs,
      live: tbs.size,
      limit: tbs.maxTbs,
      irqPerSec: raised.map((r, i) => (r - (this.last.raised[i] ?? 0)) / dt),
      hottest,
      state: this.ctl.state === 'running' ? 'running' : `${this.ctl.state}: ${describeStop(this.ctl, this.ctl.lastStop)}`,
      icount: m.cpu.icount,
    };
    this.last = { t, icount: m.cpu.icount, translations: stats.translations, raised };
    this.history.push(s);
    if (this.history.length > this.keep) this.history.shift();
    return s;
  }

  /** Log lines for events since the last call (the newest `max` of them). */
  drainLog(max = 50): string[] {
    const m = this.ctl.machine;
    const out: string[] = [];
    for (const [name, ring] of Object.entries(m.events.rings)) {
      const fresh = Math.min(ring.length, ring.total - (this.ringTotals[name] ?? 0));
      this.ringTotals[name] = ring.total;
      if (fresh <= 0) continue;
      for (const e of ring.last(fresh)) if (LOGGED.has(e.kind)) out.push(formatEvent(this.ctl, e));
    }
    out.push(...this.pendingLog.splice(0));
    return out.slice(-max);
  }
}

const hex = (v: number): string => `0x${(v >>> 0).toString(16)}`;

export function formatEvent(ctl: DebugController, e: MachineEvent): string {
  const at = `@${e.icount}`;
  switch (e.kind) {
    case 'tb-flush': return `${at} TB flush (${e.reason}): ${e.count} TBs`;
    case 'tb-invalidate': {
      const sym = symbolText(ctl, e.pc);
      return `${at} TB #${e.id} ${hex(e.pc)}${sym ? ` <${sym}>` : ''} invalidated: ${e.reason}`;
    }
    case 'exception': return `${at} exception ${e.vector} at ${hex(e.eip)}`;
    case 'exception-storm': return `${at} exception storm: ${e.deliveries} deliveries of exception ${e.vector} at ${hex(e.eip)} with no instruction retired; each further one counts as an instruction`;
    case 'reset': return `${at} reset: ${e.cause}`;
    case 'unimplemented': return `${at} unimplemented ${e.what} at ${hex(e.eip)}`;
    default: return `${at} ${e.kind}`;
  }
}
