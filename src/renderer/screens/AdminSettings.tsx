// Settings sections that exist only where the engine offers them: inviting a PC (admins) and the
// desk-phone accounts this peer serves.
import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { extension as extensionSchema } from '../../core/api/contract.ts';
import { useApp } from '../app-context.tsx';
import { ErrorNotice, errorText, Field, useBusy } from '../ui.tsx';

const extensionError = (v: string) =>
  extensionSchema.parse(v).ok ? null : 'An extension is 1 to 15 digits.';

export function InvitePc() {
  const { engine } = useApp();
  const [ext, setExt] = useState('');
  const [code, setCode] = useState<{ ext: string; code: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [touched, setTouched] = useState(false);
  const [busy, run] = useBusy();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (extensionError(ext)) return;
    void run(async () => {
      setError(null);
      setCode(null);
      const r = await engine.command({ type: 'office.invite', extension: ext });
      if (!r.ok) return setError(errorText(r));
      setCode({ ext, code: r.value.code });
    });
  };
  return (
    <section aria-labelledby="invite-title">
      <h2 id="invite-title">Invite a PC</h2>
      <form onSubmit={submit} noValidate className="row">
        <Field
          label="Extension for the new PC"
          value={ext}
          onChange={setExt}
          inputMode="numeric"
          error={touched ? extensionError(ext) : null}
        />
        <button type="submit" disabled={busy}>
          Create join code
        </button>
      </form>
      {code ? (
        <p role="status">
          Join code for extension {code.ext}: <output className="code">{code.code}</output> (works once)
        </p>
      ) : null}
      {error ? <ErrorNotice>{error}</ErrorNotice> : null}
    </section>
  );
}

export function DeskPhones() {
  const { engine, can } = useApp();
  const [phones, setPhones] = useState<{ extension: string; registered: boolean }[] | null>(null);
  const [ext, setExt] = useState('');
  const [password, setPassword] = useState('');
  const [touched, setTouched] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, run] = useBusy();
  const load = useCallback(async () => {
    const r = await engine.command({ type: 'phones.list' });
    if (r.ok) setPhones(r.value.phones);
    else setError(errorText(r));
  }, [engine]);
  useEffect(() => {
    void load();
  }, [load]);
  const passwordError = password.length < 8 ? 'At least 8 characters.' : null;
  const add = (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (extensionError(ext) || passwordError) return;
    void run(async () => {
      setError(null);
      const r = await engine.command({ type: 'phones.add', extension: ext, password });
      if (!r.ok) return setError(errorText(r));
      setExt('');
      setPassword('');
      setTouched(false);
      await load();
    });
  };
  const remove = (extension: string) =>
    void run(async () => {
      const r = await engine.command({ type: 'phones.remove', extension });
      if (!r.ok) return setError(errorText(r));
      await load();
    });
  return (
    <section aria-labelledby="phones-title">
      <h2 id="phones-title">Desk phones on this PC</h2>
      {phones === null ? null : phones.length === 0 ? (
        <p>No desk phones yet.</p>
      ) : (
        <ul className="requests" aria-label="Desk phones">
          {phones.map((p) => (
            <li key={p.extension}>
              <span>
                Extension <strong>{p.extension}</strong> · {p.registered ? 'registered' : 'not registered'}
              </span>
              <button
                type="button"
                disabled={busy || !can('phones.remove')}
                onClick={() => remove(p.extension)}
                aria-label={`Remove desk phone ${p.extension}`}
              >
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
      {can('phones.add') ? (
        <form onSubmit={add} noValidate>
          <fieldset disabled={busy}>
            <legend>Add a desk phone</legend>
            <div className="row">
              <Field
                label="Phone extension"
                value={ext}
                onChange={setExt}
                inputMode="numeric"
                error={touched ? extensionError(ext) : null}
              />
              <Field
                label="Phone password"
                type="password"
                value={password}
                onChange={setPassword}
                autoComplete="new-password"
                hint="The phone registers to this PC with this password (SIP digest)."
                error={touched ? passwordError : null}
              />
            </div>
            <button type="submit">Add phone</button>
          </fieldset>
        </form>
      ) : null}
      {error ? <ErrorNotice>{error}</ErrorNotice> : null}
    </section>
  );
}
