// Home: the office directory with live presence and a search, own status, and a dialpad.
import { type FormEvent, useMemo, useState } from 'react';
import type { OwnPresenceState } from '../../core/api/contract.ts';
import { useApp } from '../app-context.tsx';
import { ErrorNotice, errorText, NotAvailable, PRESENCE_LABEL, PresenceBadge, useBusy } from '../ui.tsx';

export function Home() {
  return (
    <div className="home">
      <Directory />
      <aside className="side">
        <OwnStatus />
        <Dialpad />
      </aside>
    </div>
  );
}

function useDial(): { dial: (target: string) => Promise<void>; error: string | null; busy: boolean } {
  const { engine, can, dispatch } = useApp();
  const [error, setError] = useState<string | null>(null);
  const [busy, run] = useBusy();
  const dial = (target: string) =>
    run(async () => {
      setError(null);
      if (!can('call.dial')) return setError(errorText({ ok: false, error: 'not-available' }));
      const r = await engine.command({ type: 'call.dial', target });
      if (!r.ok) return setError(`Calling ${target}: ${errorText(r)}`);
      // The reply already holds the call: show it even before (or without) its first event.
      dispatch({ type: 'event', event: { type: 'call.state', call: r.value.call } });
    });
  return { dial, error, busy };
}

function Directory() {
  const { state, can } = useApp();
  const [query, setQuery] = useState('');
  const { dial, error } = useDial();
  const own = state.status?.extension;
  const shown = useMemo(() => {
    const q = query.trim().toLowerCase();
    return state.members.filter(
      (m) =>
        m.extension !== own && (!q || m.extension.includes(q) || m.displayName.toLowerCase().includes(q)),
    );
  }, [state.members, query, own]);

  return (
    <section className="directory" aria-labelledby="dir-title">
      <h2 id="dir-title">Directory</h2>
      <label className="search">
        <span>Search</span>
        <input
          type="search"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          placeholder="Name or extension"
        />
      </label>
      {error ? <ErrorNotice>{error}</ErrorNotice> : null}
      {!can('members.list') ? (
        <NotAvailable what="The directory" />
      ) : shown.length === 0 ? (
        <p>
          {query ? `No one matches “${query}”.` : 'No colleagues yet: they appear here as their PCs join.'}
        </p>
      ) : (
        <ul className="members" aria-label="Colleagues">
          {shown.map((m) => (
            <li key={m.nodeId} className="member" data-extension={m.extension}>
              <span className="who">
                <strong>{m.displayName || m.extension}</strong> <span className="ext">{m.extension}</span>
              </span>
              <PresenceBadge presence={m.presence} />
              <button
                type="button"
                disabled={!can('call.dial') || m.presence.state === 'offline'}
                aria-label={`Call ${m.displayName || m.extension}`}
                onClick={() => void dial(m.extension)}
              >
                Call
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function OwnStatus() {
  const { engine, state, can, dispatch } = useApp();
  const [note, setNote] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, run] = useBusy();
  const current = state.status?.presence?.state;
  const set = (s: OwnPresenceState) =>
    void run(async () => {
      setError(null);
      const r = await engine.command({
        type: 'presence.set',
        state: s,
        ...(note.trim() ? { note: note.trim() } : {}),
      });
      if (!r.ok) return setError(errorText(r));
      if (state.status) dispatch({ type: 'status', status: { ...state.status, presence: r.value } });
    });
  return (
    <section className="own-status" aria-labelledby="status-title">
      <h2 id="status-title">My status</h2>
      <p>
        {state.status?.displayName} · extension {state.status?.extension}
        {state.status?.presence ? (
          <>
            {' · '}
            <PresenceBadge presence={state.status.presence} />
          </>
        ) : null}
      </p>
      {can('presence.set') ? (
        <fieldset disabled={busy}>
          <legend>Set my status</legend>
          <div className="segmented">
            {(['available', 'dnd', 'away'] as const).map((s) => (
              <button key={s} type="button" aria-pressed={current === s} onClick={() => set(s)}>
                {PRESENCE_LABEL[s]}
              </button>
            ))}
          </div>
          <label className="search">
            <span>Note</span>
            <input
              value={note}
              maxLength={140}
              onChange={(e) => setNote(e.target.value)}
              placeholder="Back at 2 pm"
            />
          </label>
        </fieldset>
      ) : (
        <NotAvailable what="Setting your status" />
      )}
      {error ? <ErrorNotice>{error}</ErrorNotice> : null}
    </section>
  );
}

const KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#'];

export function Keypad({ onKey, label }: { onKey: (k: string) => void; label: string }) {
  return (
    <fieldset className="keypad">
      <legend className="visually-hidden">{label}</legend>
      {KEYS.map((k) => (
        <button key={k} type="button" onClick={() => onKey(k)} aria-label={`Key ${k}`}>
          {k}
        </button>
      ))}
    </fieldset>
  );
}

function Dialpad() {
  const [number, setNumber] = useState('');
  const { dial, error, busy } = useDial();
  const { can } = useApp();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (number.trim()) void dial(number.trim());
  };
  return (
    <section className="dialpad" aria-labelledby="dialpad-title">
      <h2 id="dialpad-title">Dialpad</h2>
      <form onSubmit={submit}>
        <label className="search">
          <span>Number</span>
          <input
            value={number}
            onChange={(e) => setNumber(e.target.value.replace(/[^0-9*#+@.a-zA-Z:-]/g, ''))}
            inputMode="tel"
            placeholder="Extension or SIP address"
          />
        </label>
        <Keypad label="Dialpad keys" onKey={(k) => setNumber((n) => n + k)} />
        <div className="row">
          <button
            type="button"
            onClick={() => setNumber((n) => n.slice(0, -1))}
            aria-label="Delete last digit"
          >
            ⌫
          </button>
          <button type="submit" className="primary" disabled={busy || !number.trim() || !can('call.dial')}>
            {busy ? 'Calling…' : 'Call'}
          </button>
        </div>
      </form>
      {!can('call.dial') ? <NotAvailable what="Calling" /> : null}
      {error ? <ErrorNotice>{error}</ErrorNotice> : null}
    </section>
  );
}
