// The bridge between the session (state and actions) and Ink: subscribes to snapshots,
// hands keys to the session. Layout lives in App.
import React, { useEffect, useSyncExternalStore } from 'react';
import { useStdin } from 'ink';
import type { UiSession } from './model/ui-session.js';
import { inputToKeys } from './model/keys.js';
import { App } from './app.js';

export function Root({ session }: { session: UiSession }): React.JSX.Element {
  const snap = useSyncExternalStore(
    (l) => session.subscribe(l),
    () => session.getSnapshot(),
  );
  // Ink's input events, named by us (useInput loses the function keys).
  const { setRawMode, isRawModeSupported, internal_eventEmitter: events } = useStdin();
  useEffect(() => {
    if (isRawModeSupported) setRawMode(true);
    const onInput = (input: string): void => session.handleKeys(inputToKeys(input));
    events.on('input', onInput);
    return () => {
      events.off('input', onInput);
      if (isRawModeSupported) setRawMode(false);
    };
  }, [session, events, setRawMode, isRawModeSupported]);
  return <App snap={snap} />;
}
