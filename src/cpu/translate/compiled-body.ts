// The code of a TB or region compiled as a whole, as it goes into its function: memory
// accesses written out (inline-memory.ts), then registers and flags in locals where that
// is safe (register-locals.ts). compileTb and buildRegion wrap it the same way.
import { inlineMemory, INLINE_MEMORY_LOCAL } from './inline-memory.js';
import { registerLocals } from './register-locals.js';

export interface CompiledBody {
  /** Declarations before the function's try. */
  readonly prologue: string;
  readonly body: string;
  /** First statements of the catch that hands a fault on (writing the locals back). */
  readonly onFault: string;
}

/** `withLocals` false: memory written out only (code with a way out of its own, a DR prologue). */
export function compiledBody(generated: string, withLocals = true): CompiledBody {
  const body = inlineMemory(generated);
  const locals = withLocals ? registerLocals(body) : null;
  return {
    prologue: locals === null ? INLINE_MEMORY_LOCAL : `${INLINE_MEMORY_LOCAL}\n${locals.load}`,
    body: locals?.body ?? body,
    onFault: locals?.writeBack ?? '',
  };
}
