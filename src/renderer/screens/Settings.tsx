// Settings: only the parts the engine implements are shown (forwarding and DND; join requests for
// admins). Everything else says plainly that it is not available yet.
import { type FormEvent, useEffect, useState } from 'react';
import {
  extension as extensionSchema,
  type Forwarding,
  type Settings as SettingsValue,
} from '../../core/api/contract.ts';
import { useApp } from '../app-context.tsx';
import { ErrorNotice, errorText, Field, formatTime, NotAvailable, useBusy } from '../ui.tsx';
import { DeskPhones, InvitePc } from './AdminSettings.tsx';
import { AdminUnlock, OfficeConfigEditor } from './OfficeConfig.tsx';

export function Settings() {
  const { can, state } = useApp();
  const admin = state.status?.admin ?? false;
  return (
    <section aria-labelledby="screen-title">
      {can('settings.get') ? <CallSettings /> : <NotAvailable what="Forwarding and do-not-disturb" />}
      {admin && state.status?.adminLocked && can('admin.unlock') ? <AdminUnlock /> : null}
      {admin ? (
        can('join-requests.list') ? (
          <JoinRequests />
        ) : (
          <NotAvailable what="Approving join requests" />
        )
      ) : null}
      {admin && can('office.invite') ? <InvitePc /> : null}
      {can('phones.list') ? <DeskPhones /> : null}
      {can('office-config.get') ? <OfficeConfigEditor /> : null}
    </section>
  );
}

type FwdKey = 'always' | 'busy' | 'noAnswer';
const FWD_LABEL: Record<FwdKey, string> = {
  always: 'Forward all calls to',
  busy: 'When busy, forward to',
  noAnswer: 'When not answered, forward to',
};

function CallSettings() {
  const { engine, can } = useApp();
  const [settings, setSettings] = useState<SettingsValue | null>(null);
  const [draft, setDraft] = useState<Record<FwdKey, string>>({ always: '', busy: '', noAnswer: '' });
  const [seconds, setSeconds] = useState('20');
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const [busy, run] = useBusy();

  useEffect(() => {
    void engine.command({ type: 'settings.get' }).then((r) => {
      if (!r.ok) return setError(errorText(r));
      setSettings(r.value);
      const f = r.value.forwarding;
      setDraft({ always: f.always ?? '', busy: f.busy ?? '', noAnswer: f.noAnswer ?? '' });
      setSeconds(String(f.noAnswerSeconds));
    });
  }, [engine]);

  const invalid = (v: string) => (v && !extensionSchema.parse(v).ok ? 'An extension is digits only.' : null);
  const secondsN = Number(seconds);
  const secondsBad = !Number.isInteger(secondsN) || secondsN < 5 || secondsN > 120;

  const save = (patch: { dnd?: boolean; forwarding?: Forwarding }) =>
    void run(async () => {
      setError(null);
      setSaved(false);
      const r = await engine.command({ type: 'settings.set', ...patch });
      if (!r.ok) return setError(errorText(r));
      setSettings(r.value);
      setSaved(true);
    });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (invalid(draft.always) || invalid(draft.busy) || invalid(draft.noAnswer) || secondsBad) return;
    save({
      forwarding: {
        always: draft.always || null,
        busy: draft.busy || null,
        noAnswer: draft.noAnswer || null,
        noAnswerSeconds: secondsN,
      },
    });
  };

  if (!settings)
    return error ? (
      <ErrorNotice>{error}</ErrorNotice>
    ) : (
      <p role="status">
        Loading settings… <progress aria-label="Loading settings" />
      </p>
    );
  return (
    <>
      <h2>Do not disturb</h2>
      <label className="check">
        <input
          type="checkbox"
          checked={settings.dnd}
          disabled={busy || !can('settings.set')}
          onChange={(e) => save({ dnd: e.target.checked })}
        />{' '}
        Send all calls to voicemail
      </label>
      <h2>Forwarding</h2>
      <form onSubmit={submit} noValidate>
        <fieldset disabled={busy || !can('settings.set')}>
          <legend>Forward calls (leave empty for no forwarding)</legend>
          {(Object.keys(FWD_LABEL) as FwdKey[]).map((k) => (
            <Field
              key={k}
              label={FWD_LABEL[k]}
              value={draft[k]}
              inputMode="numeric"
              onChange={(v) => setDraft((d) => ({ ...d, [k]: v }))}
              error={invalid(draft[k])}
            />
          ))}
          <Field
            label="Seconds before “not answered”"
            value={seconds}
            inputMode="numeric"
            onChange={setSeconds}
            error={secondsBad ? 'Between 5 and 120 seconds.' : null}
          />
        </fieldset>
        <button type="submit" className="primary" disabled={busy}>
          Save forwarding
        </button>
        {saved ? <span role="status"> Saved.</span> : null}
      </form>
      {error ? <ErrorNotice>{error}</ErrorNotice> : null}
    </>
  );
}

function JoinRequests() {
  const { engine, state, dispatch } = useApp();
  const [error, setError] = useState<string | null>(null);
  const [busy, run] = useBusy();
  const decide = (id: string, approve: boolean) =>
    void run(async () => {
      setError(null);
      const r = await engine.command({ type: 'join-requests.decide', id, approve });
      if (!r.ok) return setError(errorText(r));
      dispatch({ type: 'joinRequests', requests: state.joinRequests.filter((q) => q.id !== id) });
    });
  return (
    <>
      <h2>Join requests</h2>
      {state.joinRequests.length === 0 ? (
        <p>No PC is waiting to join.</p>
      ) : (
        <ul className="requests" aria-label="Join requests">
          {state.joinRequests.map((q) => (
            <li key={q.id}>
              <span>
                <strong>{q.displayName}</strong> wants extension {q.extension}
                {q.address ? ` from ${q.address}` : ''} · {formatTime(q.receivedAt)}
              </span>
              <button type="button" className="primary" disabled={busy} onClick={() => decide(q.id, true)}>
                Approve
              </button>
              <button type="button" disabled={busy} onClick={() => decide(q.id, false)}>
                Deny
              </button>
            </li>
          ))}
        </ul>
      )}
      {error ? <ErrorNotice>{error}</ErrorNotice> : null}
    </>
  );
}
