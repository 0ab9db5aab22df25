// The status line: running or stopped and why, retired instructions, MIPS, gdb, the last
// POST code (port 0x80) once the guest wrote one, guest.
import React from 'react';
import { Text } from 'ink';
import type { StatusView } from '../model/types.js';
import { fit } from './frame.js';

export function statusText(s: StatusView): { state: string; rest: string } {
  const past = s.present !== null;
  const state = s.state === 'running' ? (s.halted ? '● running (hlt)' : '● running') : s.state === 'exited' ? '■ exited' : past ? '⟲ in the past' : '■ stopped';
  const parts = [
    s.cpu ?? null,
    past ? `${s.icount.toLocaleString('en-US')} of ${s.present!.toLocaleString('en-US')} insns` : `${s.icount.toLocaleString('en-US')} insns`,
    `${(s.mips / 1e6).toFixed(1)} MIPS`,
    s.gdb ? `gdb ${s.gdb}` : 'no gdb',
    s.post === null ? null : `POST ${s.post.toString(16).padStart(2, '0')}h`,
    s.state === 'running' ? null : s.reason,
    s.guest || null,
  ].filter((p): p is string => p !== null && p !== '');
  return { state, rest: parts.join(' │ ') };
}

export function StatusLine({ status, width }: { status: StatusView; width: number }): React.JSX.Element {
  const { state, rest } = statusText(status);
  const color = status.state === 'running' ? 'green' : status.state === 'exited' ? 'red' : status.present !== null ? 'magenta' : 'yellow';
  return (
    <Text wrap="truncate-end">
      <Text color={color} bold inverse>
        {` ${state} `}
      </Text>
      <Text>{fit(` ${rest}`, Math.max(0, width - [...state].length - 2))}</Text>
    </Text>
  );
}
