// Stop latency as the user waits for it, robust to a loaded machine. The wall time from
// the moment a stop was due to the stop includes time the process spent off the CPU
// (other processes, the test runner's other workers). Two bounds of the time our own
// code took that do not: the process's CPU time since the request was scheduled (which
// includes the wait before the due moment), and its CPU time since the request was
// made plus how late it was made (the event loop was busy until then). The latency
// counted is the smallest of the three; each is an upper bound of the time we took
// (CPU time also counts the garbage collector's helper threads).
export interface LatencyProbe {
  /** Call when the request is made (Ctrl-C sent, pause called). */
  fired(): void;
  /** Call when the stop arrives: the latency figures in ms. */
  stopped(): { wallMs: number; cpuMs: number; ms: number };
}

const cpuMs = (since?: NodeJS.CpuUsage): number => {
  const c = process.cpuUsage(since);
  return (c.user + c.system) / 1000;
};

/** Start measuring a stop request due `waitMs` from now. */
export function latencyProbe(waitMs: number): LatencyProbe {
  const due = performance.now() + waitMs;
  const cpuScheduled = process.cpuUsage();
  let cpuFired: NodeJS.CpuUsage | null = null;
  let late = 0;
  return {
    fired() {
      cpuFired = process.cpuUsage();
      late = Math.max(0, performance.now() - due);
    },
    stopped() {
      const wallMs = performance.now() - due;
      const sinceScheduled = cpuMs(cpuScheduled);
      const sinceFired = cpuFired === null ? Infinity : cpuMs(cpuFired) + late;
      const cpu = Math.min(sinceScheduled, sinceFired);
      return { wallMs, cpuMs: cpu, ms: Math.min(wallMs, cpu) };
    },
  };
}
