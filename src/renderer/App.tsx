// The app frame: connection state, first run until this PC is enrolled, then the main screens with a
// navigation bar, the call panel above them and the progress of long operations.
import { useEffect, useRef, useState } from 'react';
import { useApp } from './app-context.tsx';
import { CallPanel } from './screens/Calls.tsx';
import { FirstRun } from './screens/FirstRun.tsx';
import { History } from './screens/History.tsx';
import { Home } from './screens/Home.tsx';
import { Network } from './screens/Network.tsx';
import { Settings } from './screens/Settings.tsx';
import { Voicemail } from './screens/Voicemail.tsx';
import { ProgressList } from './ui.tsx';

const SCREENS = {
  home: 'Home',
  voicemail: 'Voicemail',
  history: 'History',
  network: 'Network',
  settings: 'Settings',
};
type ScreenId = keyof typeof SCREENS;

function Connection() {
  const { state } = useApp();
  if (state.conn === 'ready') return null;
  const text =
    state.conn === 'unauthorized'
      ? 'Not authorized. Open the link printed by the peer (it ends with #token=…); this page cannot reach the peer without it.'
      : state.conn === 'connecting'
        ? 'Connecting to the peer…'
        : 'Connection to the peer lost. Reconnecting…';
  return (
    <div className={state.conn === 'unauthorized' ? 'banner error' : 'banner'} role="status">
      {text}
    </div>
  );
}

export function App() {
  const { state } = useApp();
  const [screen, setScreen] = useState<ScreenId>('home');
  const main = useRef<HTMLElement>(null);
  // Moving between screens puts the keyboard focus on the new screen's title.
  const first = useRef(true);
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs on purpose whenever the screen changes.
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    main.current?.querySelector<HTMLElement>('h1')?.focus();
  }, [screen]);

  const newVoicemail = state.voicemail?.filter((m) => !m.heard).length ?? 0;
  const pendingRequests = state.joinRequests.length;
  let body: React.ReactNode;
  if (state.status === null) body = state.conn === 'ready' ? <p role="status">Loading…</p> : null;
  else if (!state.status.enrolled) body = <FirstRun />;
  else
    body = (
      <>
        <header className="top">
          <span className="brand">PeerPBX · {state.status.officeName}</span>
          <nav aria-label="Screens">
            {(Object.keys(SCREENS) as ScreenId[]).map((id) => (
              <button
                key={id}
                type="button"
                className={screen === id ? 'nav active' : 'nav'}
                aria-current={screen === id ? 'page' : undefined}
                onClick={() => setScreen(id)}
              >
                {SCREENS[id]}
                {id === 'voicemail' && newVoicemail > 0 ? (
                  <span className="badge"> {newVoicemail} new</span>
                ) : null}
                {id === 'settings' && pendingRequests > 0 ? (
                  <span className="badge"> {pendingRequests}</span>
                ) : null}
              </button>
            ))}
          </nav>
        </header>
        <CallPanel />
        <main ref={main} className={`screen screen-${screen}`}>
          <h1 id="screen-title" tabIndex={-1} className={screen === 'home' ? 'visually-hidden' : undefined}>
            {SCREENS[screen]}
          </h1>
          {screen === 'home' ? (
            <Home />
          ) : screen === 'voicemail' ? (
            <Voicemail />
          ) : screen === 'history' ? (
            <History />
          ) : screen === 'network' ? (
            <Network />
          ) : (
            <Settings />
          )}
        </main>
      </>
    );
  return (
    <div className="app">
      <Connection />
      <ProgressList items={state.progress} />
      {body}
    </div>
  );
}
