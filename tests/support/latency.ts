// Stop latency as the user waits for it, robust to a loaded machine. The wall time from
// the moment a stop was due to the stop includes time the process spent off the CPU
// (other processes, the test runner's other workers). Two bounds of the time our own
// code took that do not: its thread's CPU time since the request was scheduled (which
// includes the wait before the due moment), and that CPU time since the request was
// made plus how late it was made (the event loop was busy until then). The latency
// counted is the smallest of the three; each is an upper bound of the time we took.
import { readFileSync } from 'node:fs';

export interface LatencyProbe {
  /** Call when the request is made (Ctrl-C sent, pause called). */
  fired(): void;
  /** Call when the stop arrives: the latency figures in ms. */
  stopped(): { wallMs: number; cpuMs: number; ms: number };
}

/**
 * CPU time of the calling thread (the one that runs the event loop, the server and the
 * machine) in ms, from Linux's per-thread scheduler statistics: V8's compiler and
 * garbage-collector helper threads, busy on a loaded machine, do not count. Elsewhere,
 * the process's CPU time (which does count them).
 */
function threadCpuMs(): number {
  try {
    return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e6;
  } catch {
    const c = process.cpuUsage();
    return (c.user + c.system) / 1000;
  }
}

/** Start measuring a stop request due `waitMs` from now. */
export function latencyProbe(waitMs: number): LatencyProbe {
  const due = performance.now() + waitMs;
  const cpuScheduled = threadCpuMs();
  let cpuFired: number | null = null;
  let late = 0;
  return {
    fired() {
      cpuFired = threadCpuMs();
      late = Math.max(0, performance.now() - due);
    },
    stopped() {
      const wallMs = performance.now() - due;
      const now = threadCpuMs();
      const sinceScheduled = now - cpuScheduled;
      const sinceFired = cpuFired === null ? Infinity : now - cpuFired + late;
      const cpu = Math.min(sinceScheduled, sinceFired);
      return { wallMs, cpuMs: cpu, ms: Math.min(wallMs, cpu) };
    },
  };
}

/**
 * CPU time in ms of another process's main thread (the one running its event loop and
 * machine), or null where Linux's per-thread statistics are not there. A child's wall
 * latency on a loaded machine includes the time it waited for a CPU; this does not.
 */
export function processMainThreadCpuMs(pid: number): number | null {
  try {
    return Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
  } catch {
    return null;
  }
}
