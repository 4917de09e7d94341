// Admin settings of the whole office: unlocking an admin PC started without its passphrase (so join
// requests can be approved), and the office config every peer routes by: SIP trunks with their
// dial prefixes, inbound DIDs and ring groups (OFFICE-CONFIG, signed by the admin).
import { type FormEvent, useCallback, useEffect, useState } from 'react';
import type { OfficeConfig as OfficeConfigValue, Trunk } from '../../core/api/contract.ts';
import { officeConfig as officeConfigSchema } from '../../core/api/contract.ts';
import { useApp } from '../app-context.tsx';
import { ErrorNotice, errorText, Field, useBusy } from '../ui.tsx';

export function AdminUnlock() {
  const { engine, dispatch } = useApp();
  const [passphrase, setPassphrase] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, run] = useBusy();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (passphrase.length < 8) return setError('The passphrase has at least 8 characters.');
    void run(async () => {
      setError(null);
      const r = await engine.command({ type: 'admin.unlock', passphrase });
      // 'denied' carries the reason (a wrong passphrase); other errors read as usual.
      if (!r.ok) return setError(r.error === 'denied' && r.message ? `${r.message}.` : errorText(r));
      setPassphrase('');
      dispatch({ type: 'status', status: r.value });
    });
  };
  return (
    <section aria-labelledby="unlock-title">
      <h2 id="unlock-title">Unlock the admin PC</h2>
      <p>
        This PC started without the admin passphrase: it cannot approve new PCs. Type the passphrase to open
        the office key (the phone restarts briefly).
      </p>
      <form onSubmit={submit} noValidate className="row" aria-label="Unlock the admin PC">
        <Field label="Admin passphrase" type="password" value={passphrase} onChange={setPassphrase} />
        <button type="submit" disabled={busy}>
          {busy ? 'Unlocking…' : 'Unlock'}
        </button>
      </form>
      {error ? <ErrorNotice>{error}</ErrorNotice> : null}
    </section>
  );
}

/** Editable rows: every value a string while typed, checked against the contract on save. */
interface TrunkRow {
  name: string;
  host: string;
  port: string;
  prefix: string;
  strip: string;
  transport: string;
}
interface DidRow {
  did: string;
  target: string;
}
interface GroupRow {
  extension: string;
  members: string;
  strategy: string;
  seconds: string;
}

const trunkRow = (t: Trunk): TrunkRow => ({
  name: t.name,
  host: t.host,
  port: t.port ? String(t.port) : '',
  prefix: t.prefix ?? '',
  strip: t.strip !== undefined ? String(t.strip) : '',
  transport: t.transport ?? 'UDP',
});

/** The contract value of the rows; credentials and routes not edited here are kept from `base`. */
function configOf(
  base: OfficeConfigValue,
  trunks: TrunkRow[],
  dids: DidRow[],
  groups: GroupRow[],
): OfficeConfigValue {
  const num = (s: string) => (s.trim() === '' ? undefined : Number(s));
  const credentials = new Map(
    base.trunks.map((t) => [t.name, { username: t.username, password: t.password }]),
  );
  return {
    routes: base.routes,
    trunks: trunks.map((r) => {
      const c = credentials.get(r.name.trim());
      const t: Record<string, unknown> = { name: r.name.trim(), host: r.host.trim(), transport: r.transport };
      if (num(r.port) !== undefined) t.port = num(r.port);
      if (r.prefix.trim()) t.prefix = r.prefix.trim();
      if (num(r.strip) !== undefined) t.strip = num(r.strip);
      if (c?.username) t.username = c.username;
      if (c?.password) t.password = c.password;
      return t as Trunk;
    }),
    inbound: dids.map((d) => ({ did: d.did.trim(), target: d.target.trim() })),
    ringGroups: groups.map((g) => ({
      extension: g.extension.trim(),
      members: g.members
        .split(/[\s,]+/)
        .map((m) => m.trim())
        .filter(Boolean),
      strategy: g.strategy === 'hunt' ? 'hunt' : 'ring-all',
      ...(num(g.seconds) !== undefined ? { memberTimeoutSeconds: num(g.seconds) } : {}),
    })),
  };
}

function Cell(props: { label: string; value: string; onChange: (v: string) => void; size?: number }) {
  return (
    <td>
      <input
        aria-label={props.label}
        value={props.value}
        size={props.size ?? 10}
        onChange={(e) => props.onChange(e.target.value)}
      />
    </td>
  );
}

function update<T>(rows: T[], i: number, change: Partial<T>): T[] {
  return rows.map((r, j) => (j === i ? { ...r, ...change } : r));
}

export function OfficeConfigEditor() {
  const { engine, state } = useApp();
  const admin = state.status?.admin ?? false;
  const [base, setBase] = useState<OfficeConfigValue | null>(null);
  const [trunks, setTrunks] = useState<TrunkRow[]>([]);
  const [dids, setDids] = useState<DidRow[]>([]);
  const [groups, setGroups] = useState<GroupRow[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const [busy, run] = useBusy();

  const load = useCallback((c: OfficeConfigValue) => {
    setBase(c);
    setTrunks(c.trunks.map(trunkRow));
    setDids(c.inbound.map((d) => ({ ...d })));
    setGroups(
      c.ringGroups.map((g) => ({
        extension: g.extension,
        members: g.members.join(', '),
        strategy: g.strategy,
        seconds: g.memberTimeoutSeconds ? String(g.memberTimeoutSeconds) : '',
      })),
    );
  }, []);
  useEffect(() => {
    void engine
      .command({ type: 'office-config.get' })
      .then((r) => (r.ok ? load(r.value) : setError(errorText(r))));
  }, [engine, load]);

  const save = (e: FormEvent) => {
    e.preventDefault();
    if (!base) return;
    const config = configOf(base, trunks, dids, groups);
    const checked = officeConfigSchema.parse(config);
    if (!checked.ok) return setError(`Please check the table: ${checked.error}`);
    void run(async () => {
      setError(null);
      setSaved(false);
      const r = await engine.command({ type: 'office-config.set', config });
      if (!r.ok) return setError(errorText(r));
      load(r.value);
      setSaved(true);
    });
  };

  if (!base)
    return (
      <section aria-labelledby="office-config-title">
        <h2 id="office-config-title">Trunks and dial plan</h2>
        {error ? <ErrorNotice>{error}</ErrorNotice> : <progress aria-label="Loading the office config" />}
      </section>
    );
  const ro = !admin;
  return (
    <section aria-labelledby="office-config-title">
      <h2 id="office-config-title">Trunks and dial plan</h2>
      {ro ? <p>Only the office admin changes these.</p> : null}
      <form onSubmit={save} aria-label="Office config">
        <fieldset disabled={ro || busy}>
          <legend>SIP trunks</legend>
          <div className="table-scroll">
            <table>
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Host</th>
                  <th>Port</th>
                  <th>Dial prefix</th>
                  <th>Strip</th>
                  <th>Transport</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {trunks.map((t, i) => (
                  // biome-ignore lint/suspicious/noArrayIndexKey: rows are edited in place, in order.
                  <tr key={i}>
                    <Cell
                      label={`Trunk ${i + 1} name`}
                      value={t.name}
                      onChange={(v) => setTrunks(update(trunks, i, { name: v }))}
                    />
                    <Cell
                      label={`Trunk ${i + 1} host`}
                      value={t.host}
                      size={16}
                      onChange={(v) => setTrunks(update(trunks, i, { host: v }))}
                    />
                    <Cell
                      label={`Trunk ${i + 1} port`}
                      value={t.port}
                      size={5}
                      onChange={(v) => setTrunks(update(trunks, i, { port: v }))}
                    />
                    <Cell
                      label={`Trunk ${i + 1} prefix`}
                      value={t.prefix}
                      size={4}
                      onChange={(v) => setTrunks(update(trunks, i, { prefix: v }))}
                    />
                    <Cell
                      label={`Trunk ${i + 1} strip`}
                      value={t.strip}
                      size={2}
                      onChange={(v) => setTrunks(update(trunks, i, { strip: v }))}
                    />
                    <td>
                      <select
                        aria-label={`Trunk ${i + 1} transport`}
                        value={t.transport}
                        onChange={(e) => setTrunks(update(trunks, i, { transport: e.target.value }))}
                      >
                        <option>UDP</option>
                        <option>TCP</option>
                        <option>TLS</option>
                      </select>
                    </td>
                    <td>
                      <button type="button" onClick={() => setTrunks(trunks.filter((_, j) => j !== i))}>
                        Remove trunk {i + 1}
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <button
            type="button"
            onClick={() =>
              setTrunks([
                ...trunks,
                { name: '', host: '', port: '', prefix: '', strip: '', transport: 'UDP' },
              ])
            }
          >
            Add trunk
          </button>
        </fieldset>
        <fieldset disabled={ro || busy}>
          <legend>Inbound numbers (DID to extension or ring group)</legend>
          <ul className="plain">
            {dids.map((d, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: rows are edited in place, in order.
              <li key={i} className="row">
                <input
                  aria-label={`DID ${i + 1}`}
                  placeholder="Number (DID)"
                  value={d.did}
                  onChange={(e) => setDids(update(dids, i, { did: e.target.value }))}
                />
                <span aria-hidden="true">→</span>
                <input
                  aria-label={`DID ${i + 1} goes to`}
                  placeholder="Extension"
                  value={d.target}
                  inputMode="numeric"
                  onChange={(e) => setDids(update(dids, i, { target: e.target.value }))}
                />
                <button type="button" onClick={() => setDids(dids.filter((_, j) => j !== i))}>
                  Remove DID {i + 1}
                </button>
              </li>
            ))}
          </ul>
          <button type="button" onClick={() => setDids([...dids, { did: '', target: '' }])}>
            Add inbound number
          </button>
        </fieldset>
        <fieldset disabled={ro || busy}>
          <legend>Ring groups</legend>
          <ul className="plain">
            {groups.map((g, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: rows are edited in place, in order.
              <li key={i} className="row">
                <input
                  aria-label={`Group ${i + 1} extension`}
                  placeholder="Group extension"
                  value={g.extension}
                  inputMode="numeric"
                  size={6}
                  onChange={(e) => setGroups(update(groups, i, { extension: e.target.value }))}
                />
                <input
                  aria-label={`Group ${i + 1} members`}
                  placeholder="Members: 101, 102"
                  value={g.members}
                  size={20}
                  onChange={(e) => setGroups(update(groups, i, { members: e.target.value }))}
                />
                <select
                  aria-label={`Group ${i + 1} strategy`}
                  value={g.strategy}
                  onChange={(e) => setGroups(update(groups, i, { strategy: e.target.value }))}
                >
                  <option value="ring-all">Ring all</option>
                  <option value="hunt">Hunt (one after another)</option>
                </select>
                <input
                  aria-label={`Group ${i + 1} seconds`}
                  placeholder="Seconds"
                  value={g.seconds}
                  size={4}
                  inputMode="numeric"
                  onChange={(e) => setGroups(update(groups, i, { seconds: e.target.value }))}
                />
                <button type="button" onClick={() => setGroups(groups.filter((_, j) => j !== i))}>
                  Remove group {i + 1}
                </button>
              </li>
            ))}
          </ul>
          <button
            type="button"
            onClick={() =>
              setGroups([...groups, { extension: '', members: '', strategy: 'ring-all', seconds: '' }])
            }
          >
            Add ring group
          </button>
        </fieldset>
        {ro ? null : (
          <button type="submit" className="primary" disabled={busy}>
            {busy ? 'Saving…' : 'Save office config'}
          </button>
        )}
        {saved ? <p role="status">Saved: every PC routes by it within seconds.</p> : null}
        {error ? <ErrorNotice>{error}</ErrorNotice> : null}
      </form>
    </section>
  );
}
