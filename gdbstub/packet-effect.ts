// Serving a packet in two steps, so that none is half applied (issue 16). A handler
// parses and checks the whole packet first, reading state if it must but changing
// nothing, and decides: either an Answer (a query's reply, or the error for a packet it
// refuses, and then nothing has changed) or an Effect. Only `perform` changes anything,
// and an Effect holds at most one change that can still fail (one DebugTarget call that
// is all-or-nothing itself: a batch of registers, a memory write); the rest (session
// settings, bookkeeping) cannot fail and happens only once that change went in.
//
// An independent fuzzer found `G` answering E14 after it had written EBX and FOP, one
// register at a time: a handler that both checks and writes can stop half way.

/** A reply and no change: a query's answer, or the error of a refused packet. */
export interface Answer {
  readonly kind: 'answer';
  readonly text: string;
}

export interface Effect {
  readonly kind: 'effect';
  /** The one change that may still fail, all-or-nothing itself: false when it changed nothing. */
  readonly change?: () => Promise<boolean> | boolean;
  /** The reply when `change` failed (E14: the machine could not do it). */
  readonly refused?: string;
  /** What cannot fail: session settings and bookkeeping, made once `change` went in. */
  readonly commit?: () => void;
  /** The reply ('OK' unless given); null for packets answered later (a resume's stop reply). */
  readonly reply?: string | (() => string) | null;
  /** After the reply has gone: resume the guest, end the connection. */
  readonly after?: () => Promise<void> | void;
}

export type Decision = Answer | Effect;

export const answer = (text: string): Answer => ({ kind: 'answer', text });

export const effect = (e: Omit<Effect, 'kind'>): Effect => ({ kind: 'effect', ...e });

/** Carries out a decision: the only place a packet changes the machine or the session. */
export async function perform(d: Decision, reply: (text: string) => void): Promise<void> {
  if (d.kind === 'answer') return reply(d.text);
  if (d.change && !(await d.change())) return reply(d.refused ?? 'E14');
  d.commit?.();
  const r = d.reply === undefined ? 'OK' : d.reply;
  if (r !== null) reply(typeof r === 'function' ? r() : r);
  await d.after?.();
}
