// First run: find the office on the LAN (or through a typed peer address), then join it with an
// extension and a join code or the admin's approval; or create a new office.
import { type FormEvent, useCallback, useEffect, useState } from 'react';
import {
  type ApiFailure,
  extension as extensionSchema,
  type OfficeFound,
  peerAddress,
} from '../../core/api/contract.ts';
import { useApp } from '../app-context.tsx';
import { ErrorNotice, errorText, Field, useBusy } from '../ui.tsx';

type Mode = 'join' | 'create';
const MODES: readonly Mode[] = ['join', 'create'];

const extensionError = (v: string) =>
  extensionSchema.parse(v).ok ? null : 'An extension is 1 to 15 digits, for example 101.';

function joinErrorText(f: ApiFailure, ext: string): string {
  if (f.error === 'extension-taken')
    return `Extension ${ext} is already taken in this office. Choose another extension.`;
  return errorText(f);
}

export function FirstRun() {
  const { engine, state, dispatch } = useApp();
  const [mode, setMode] = useState<Mode>('join');
  const [offices, setOffices] = useState<OfficeFound[] | null>(null);
  const [officeId, setOfficeId] = useState<string | null>(null);
  const [searchError, setSearchError] = useState<string | null>(null);
  const [peer, setPeer] = useState('');
  const [ext, setExt] = useState('');
  const [name, setName] = useState('');
  const [code, setCode] = useState('');
  const [approval, setApproval] = useState(false);
  const [officeName, setOfficeName] = useState('');
  const [passphrase, setPassphrase] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [attempt, setAttempt] = useState(0);
  const [searching, runSearch] = useBusy();
  const [submitting, runSubmit] = useBusy();
  const [touched, setTouched] = useState(false);

  const search = useCallback(
    (viaPeer?: string) =>
      runSearch(async () => {
        setSearchError(null);
        const r = await engine.command(
          viaPeer ? { type: 'offices.discover', peer: viaPeer } : { type: 'offices.discover' },
        );
        if (!r.ok) {
          setOffices([]);
          setSearchError(errorText(r));
          return;
        }
        setOffices(r.value.offices);
        setOfficeId((cur) => cur ?? r.value.offices[0]?.id ?? null);
        if (r.value.offices.length === 0) setSearchError(errorText({ ok: false, error: 'no-office-found' }));
      }),
    [engine, runSearch],
  );

  useEffect(() => {
    void search();
  }, [search]);

  const fail = (msg: string) => {
    setError(msg);
    setAttempt((n) => n + 1);
  };

  const onJoin = (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (extensionError(ext) || !name.trim() || (!approval && !code.trim())) return;
    void runSubmit(async () => {
      setError(null);
      const peerOk = peer.trim() && peerAddress.parse(peer.trim()).ok;
      const r = await engine.command({
        type: 'office.join',
        extension: ext,
        displayName: name.trim(),
        ...(approval ? {} : { code: code.trim() }),
        ...(officeId ? { officeId } : {}),
        ...(peerOk ? { peer: peer.trim() } : {}),
      });
      if (!r.ok) return fail(joinErrorText(r, ext));
      dispatch({ type: 'status', status: r.value.status });
    });
  };

  const onCreate = (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (extensionError(ext) || !name.trim() || !officeName.trim() || (passphrase && passphrase.length < 8))
      return;
    void runSubmit(async () => {
      setError(null);
      const r = await engine.command({
        type: 'office.create',
        officeName: officeName.trim(),
        extension: ext,
        displayName: name.trim(),
        ...(passphrase ? { passphrase } : {}),
      });
      if (!r.ok) return fail(errorText(r));
      dispatch({ type: 'status', status: r.value });
    });
  };

  const switchTo = (m: Mode) => {
    setMode(m);
    setError(null);
    setTouched(false);
  };

  const pending = state.status?.pendingJoin || state.enrollment?.state === 'pending';
  if (pending && state.enrollment?.state !== 'denied') return <WaitingForApproval />;

  const peerError =
    touched && peer.trim() && !peerAddress.parse(peer.trim()).ok
      ? 'Use host:port, for example 192.168.1.20:7070.'
      : null;
  const common = (
    <>
      <Field
        label="Extension"
        value={ext}
        onChange={setExt}
        inputMode="numeric"
        hint="The number colleagues dial to reach you, for example 101."
        error={touched ? extensionError(ext) : null}
        required
      />
      <Field
        label="Your name"
        value={name}
        onChange={setName}
        autoComplete="name"
        error={touched && !name.trim() ? 'Enter the name colleagues will see.' : null}
        required
      />
    </>
  );

  return (
    <main className="first-run" aria-labelledby="first-run-title">
      <h1 id="first-run-title" tabIndex={-1}>
        Welcome to PeerPBX
      </h1>
      {/* The ARIA tabs pattern: one tab in the Tab order, arrow keys move between tabs. */}
      <div className="tabs" role="tablist" aria-label="Join or create">
        {MODES.map((m) => (
          <button
            key={m}
            id={`tab-${m}`}
            type="button"
            role="tab"
            aria-selected={mode === m}
            aria-controls="first-run-panel"
            tabIndex={mode === m ? 0 : -1}
            className={mode === m ? 'tab active' : 'tab'}
            onClick={() => switchTo(m)}
            onKeyDown={(e) => {
              if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return;
              const next = MODES[(MODES.indexOf(m) + 1) % MODES.length];
              switchTo(next);
              document.getElementById(`tab-${next}`)?.focus();
            }}
          >
            {m === 'join' ? 'Join an office' : 'Create a new office'}
          </button>
        ))}
      </div>

      {error ? <ErrorNotice key={attempt}>{error}</ErrorNotice> : null}
      {!error && state.enrollment?.state === 'denied' ? (
        <ErrorNotice>
          {errorText({ ok: false, error: 'denied' })} {state.enrollment.reason ?? ''}
        </ErrorNotice>
      ) : null}

      <div id="first-run-panel" role="tabpanel" aria-labelledby={`tab-${mode}`}>
        {mode === 'join' ? (
          <form onSubmit={onJoin} aria-label="Join an office" noValidate>
            <fieldset disabled={submitting}>
              <legend>Offices on this network</legend>
              {searching ? (
                <p role="status">
                  Searching the network… <progress aria-label="Searching for offices" />
                </p>
              ) : null}
              {offices && offices.length > 0 ? (
                <ul className="office-list">
                  {offices.map((o) => (
                    <li key={o.id}>
                      <label>
                        <input
                          type="radio"
                          name="office"
                          checked={officeId === o.id}
                          onChange={() => setOfficeId(o.id)}
                        />
                        <strong>{o.name}</strong> · {o.peers} {o.peers === 1 ? 'PC' : 'PCs'} online
                        {o.address ? ` · ${o.address}` : ''}
                      </label>
                    </li>
                  ))}
                </ul>
              ) : null}
              {searchError && !searching ? <p className="warning">{searchError}</p> : null}
              <div className="row">
                <Field
                  label="Peer address (optional)"
                  value={peer}
                  onChange={setPeer}
                  placeholder="192.168.1.20:7070"
                  hint="If your office is on another subnet, type the address of any PC in it."
                  error={peerError}
                />
                <button
                  type="button"
                  disabled={searching}
                  onClick={() =>
                    void search(peer.trim() && peerAddress.parse(peer.trim()).ok ? peer.trim() : undefined)
                  }
                >
                  Search again
                </button>
              </div>
            </fieldset>
            <fieldset disabled={submitting}>
              <legend>You</legend>
              {common}
              <div className="choice" role="radiogroup" aria-label="How to join">
                <label>
                  <input type="radio" name="how" checked={!approval} onChange={() => setApproval(false)} /> I
                  have a join code
                </label>
                <label>
                  <input type="radio" name="how" checked={approval} onChange={() => setApproval(true)} /> Ask
                  the admin to approve this PC
                </label>
              </div>
              {approval ? null : (
                <Field
                  label="Join code"
                  value={code}
                  onChange={setCode}
                  hint="Your admin gets one with “peerpbx office invite” or in Settings."
                  error={touched && !code.trim() ? 'Enter the join code, or choose to ask the admin.' : null}
                />
              )}
            </fieldset>
            <button type="submit" className="primary" disabled={submitting}>
              {submitting ? 'Joining…' : approval ? 'Ask to join' : 'Join office'}
            </button>
            {submitting ? <progress aria-label="Joining the office" /> : null}
          </form>
        ) : (
          <form onSubmit={onCreate} aria-label="Create a new office" noValidate>
            <fieldset disabled={submitting}>
              <legend>New office</legend>
              <Field
                label="Office name"
                value={officeName}
                onChange={setOfficeName}
                error={touched && !officeName.trim() ? 'Name the office, for example “Acme Ltd”.' : null}
                required
              />
              {common}
              <Field
                label="Admin passphrase (optional)"
                type="password"
                value={passphrase}
                onChange={setPassphrase}
                autoComplete="new-password"
                hint="Protects the office's certificate authority on this PC. At least 8 characters."
                error={touched && passphrase && passphrase.length < 8 ? 'At least 8 characters.' : null}
              />
            </fieldset>
            <button type="submit" className="primary" disabled={submitting}>
              {submitting ? 'Creating…' : 'Create office'}
            </button>
            {submitting ? <progress aria-label="Creating the office" /> : null}
          </form>
        )}
      </div>
    </main>
  );
}

function WaitingForApproval() {
  const { engine, state, dispatch } = useApp();
  const [busy, run] = useBusy();
  const cancel = () =>
    void run(async () => {
      await engine.command({ type: 'office.cancel-join' });
      dispatch({ type: 'event', event: { type: 'enrollment', state: 'failed', reason: 'cancelled' } });
      const s = await engine.command({ type: 'office.status' });
      if (s.ok) dispatch({ type: 'status', status: s.value });
    });
  return (
    <main className="first-run" aria-labelledby="waiting-title">
      <h1 id="waiting-title">Waiting for the admin</h1>
      <p role="status">
        Your request to join was sent. An admin of the office approves it in PeerPBX; this screen moves on by
        itself.
      </p>
      <progress aria-label="Waiting for approval" />
      {state.enrollment?.reason ? <p>{state.enrollment.reason}</p> : null}
      <button type="button" onClick={cancel} disabled={busy}>
        Cancel
      </button>
    </main>
  );
}
