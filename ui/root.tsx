// The bridge between the session (state and actions) and Ink: subscribes to snapshots,
// hands keys to the session. Layout lives in App.
import React, { useSyncExternalStore } from 'react';
import { useInput } from 'ink';
import type { UiSession } from './model/ui-session.js';
import { inkToKeys } from './model/keys.js';
import { App } from './app.js';

export function Root({ session }: { session: UiSession }): React.JSX.Element {
  const snap = useSyncExternalStore(
    (l) => session.subscribe(l),
    () => session.getSnapshot(),
  );
  useInput((input, key) => session.handleKeys(inkToKeys(input, key)));
  return <App snap={snap} />;
}
