// Guest exceptions travel through translated code as one preallocated sentinel (no stack
// trace is captured, so throwing is cheap); the details live on the CPU.

export const EXC_DE = 0;
export const EXC_DB = 1;
export const EXC_NMI = 2;
export const EXC_BP = 3;
export const EXC_OF = 4;
export const EXC_BR = 5;
export const EXC_UD = 6;
export const EXC_NM = 7;
export const EXC_DF = 8;
export const EXC_TS = 10;
export const EXC_NP = 11;
export const EXC_SS = 12;
export const EXC_GP = 13;
export const EXC_PF = 14;
export const EXC_MF = 16;
export const EXC_AC = 17;
export const EXC_MC = 18;

export const EXCEPTION_NAMES: Record<number, string> = {
  0: '#DE', 1: '#DB', 2: 'NMI', 3: '#BP', 4: '#OF', 5: '#BR', 6: '#UD', 7: '#NM', 8: '#DF',
  10: '#TS', 11: '#NP', 12: '#SS', 13: '#GP', 14: '#PF', 16: '#MF', 17: '#AC', 18: '#MC',
};

/** Exceptions that push an error code (SDM vol. 3, table 6-1). */
export function pushesErrorCode(vector: number): boolean {
  return vector === 8 || (vector >= 10 && vector <= 14) || vector === 17;
}

export class GuestException {
  readonly isGuestException = true;
}

/** The single object thrown for every guest exception. */
export const GUEST_EXCEPTION = new GuestException();

/**
 * Thrown by a device access in the middle of a translated block: the block stops before
 * the instruction (as for an exception) and the loop runs that instruction alone.
 */
export const IO_RESTART = { ioRestart: true } as const;

/** Thrown when the machine must leave translated code at once (triple fault, shutdown). */
export class CpuHalt {
  constructor(readonly reason: string) {}
}
