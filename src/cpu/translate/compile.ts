// The one place generated JavaScript becomes a function. A named function of its own, so
// a CPU profile shows V8's parse and compile of translated code apart from code
// generation (bench:linux's time breakdown counts its samples as "V8 compile of TBs").

/** `new Function(...params, body)`: the factory the translator calls with the runtime. */
export function compileGenerated(params: readonly string[], body: string): (...args: unknown[]) => unknown {
  return new Function(...params, body) as (...args: unknown[]) => unknown;
}
