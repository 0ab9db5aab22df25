// The dashboard's numbers, sampled from the machine a few times a second: guest MIPS,
// translation rate, TB-cache occupancy, IRQ rate per line, the hottest TBs and a log of
// notable events (flushes, invalidations, exceptions, resets, stops). No blessed here, so
// it is tested on its own.
import type { DebugTarget, EventCursor, MachineEvent } from '../../src/debug/target.js';
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

const LOGGED: readonly MachineEvent['kind'][] = ['tb-flush', 'tb-invalidate', 'exception', 'exception-storm', 'reset', 'unimplemented'];

export class DashboardModel {
  readonly history: DashboardSample[] = [];
  private last: { t: number; icount: number; translations: number; raised: number[] };
  private readonly t0: number;
  private cursor: EventCursor;
  private readonly pendingLog: string[] = [];
  private readonly unsubscribe: () => void;

  constructor(readonly ctl: DebugTarget, private readonly now: () => number = () => performance.now(), readonly keep = 120) {
    this.t0 = now();
    this.last = { t: this.t0, icount: ctl.status().icount, translations: ctl.tbStats().translations, raised: ctl.irq().pic.lines.map((l) => l.raised) };
    this.cursor = ctl.eventsSince(LOGGED, null).cursor;
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
    const ctl = this.ctl;
    const st = ctl.status();
    const t = this.now();
    const dt = Math.max(1e-3, (t - this.last.t) / 1000);
    const stats = ctl.tbStats();
    const raised = ctl.irq().pic.lines.map((l) => l.raised);
    const hottest = ctl
      .tbs()
      .sort((a, b) => b.execCount - a.execCount)
      .slice(0, 12)
      .map((tb) => ({ id: tb.id, pc: tb.pc, symbol: symbolText(this.ctl, tb.pc) ?? '', ninsns: tb.ninsns, execCount: tb.execCount }));
    const s: DashboardSample = {
      t: (t - this.t0) / 1000,
      mips: (st.icount - this.last.icount) / dt / 1e6,
      translationsPerSec: (stats.translations - this.last.translations) / dt,
      occupancy: stats.live / stats.limit,
      live: stats.live,
      limit: stats.limit,
      irqPerSec: raised.map((r, i) => (r - (this.last.raised[i] ?? 0)) / dt),
      hottest,
      state: st.state === 'running' ? 'running' : `${st.state}: ${describeStop(ctl, st.lastStop)}`,
      icount: st.icount,
    };
    this.last = { t, icount: st.icount, translations: stats.translations, raised };
    this.history.push(s);
    if (this.history.length > this.keep) this.history.shift();
    return s;
  }

  /** Log lines for events since the last call (the newest `max` of them). */
  drainLog(max = 50): string[] {
    const { events, cursor } = this.ctl.eventsSince(LOGGED, this.cursor);
    this.cursor = cursor;
    const out = events.map((e) => formatEvent(this.ctl, e));
    out.push(...this.pendingLog.splice(0));
    return out.slice(-max);
  }
}

const hex = (v: number): string => `0x${(v >>> 0).toString(16)}`;

export function formatEvent(ctl: DebugTarget, e: MachineEvent): string {
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
