// Stop latency as the user waits for it, robust to a loaded machine. The wall time from
// the moment a stop was due to the stop includes time the process spent off the CPU
// (other processes, the test runner's other workers); the process's CPU time from when
// the request was scheduled bounds the work it did (and includes the wait before the
// due moment, so it is conservative). The latency counted is the smaller: both are
// upper bounds of the time our own code took.
export interface LatencyProbe {
  /** Call when the stop arrives: the latency figures in ms. */
  stopped(): { wallMs: number; cpuMs: number; ms: number };
}

/** Start measuring a stop request due `waitMs` from now. */
export function latencyProbe(waitMs: number): LatencyProbe {
  const due = performance.now() + waitMs;
  const cpu0 = process.cpuUsage();
  return {
    stopped() {
      const wallMs = performance.now() - due;
      const c = process.cpuUsage(cpu0);
      const cpuMs = (c.user + c.system) / 1000;
      return { wallMs, cpuMs, ms: Math.min(wallMs, cpuMs) };
    },
  };
}
