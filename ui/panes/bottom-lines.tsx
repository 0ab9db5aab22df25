// The command line (or the last message) and the help line.
import React from 'react';
import { Text } from 'ink';
import type { CommandLineView } from '../model/types.js';
import { fit } from './frame.js';

export function CommandLine({ cmd, message, width }: { cmd: CommandLineView; message: string | null; width: number }): React.JSX.Element {
  if (cmd.active) {
    return (
      <Text wrap="truncate-end" color="cyan">
        {fit(`:${cmd.text}█`, width)}
      </Text>
    );
  }
  return (
    <Text wrap="truncate-end" color={message?.startsWith('error') ? 'red' : undefined}>
      {fit(message ?? '', width)}
    </Text>
  );
}

export function HelpLine({ text, width }: { text: string; width: number }): React.JSX.Element {
  return (
    <Text wrap="truncate-end" dimColor>
      {fit(text, width)}
    </Text>
  );
}
