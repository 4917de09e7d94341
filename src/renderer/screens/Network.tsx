// Network view: the peers on the ring, the records this PC holds (responsible or replica), and the
// office's replica health (records with fewer than 3 copies).
import { useCallback, useEffect, useState } from 'react';
import type { NetworkView } from '../../core/api/contract.ts';
import { useApp } from '../app-context.tsx';
import { ErrorNotice, errorText, NotAvailable, Table, useBusy } from '../ui.tsx';

export function Network() {
  const { engine, can } = useApp();
  const [view, setView] = useState<NetworkView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, run] = useBusy();
  const load = useCallback(
    () =>
      run(async () => {
        setError(null);
        const r = await engine.command({ type: 'network.view' });
        if (r.ok) setView(r.value);
        else setError(errorText(r));
      }),
    [engine, run],
  );
  const available = can('network.view');
  useEffect(() => {
    if (available) void load();
  }, [available, load]);

  if (!available) return <NotAvailable what="The network view" />;
  const health = view?.replicaHealth;
  return (
    <section aria-labelledby="screen-title">
      <button type="button" onClick={() => void load()} disabled={busy}>
        {busy ? 'Refreshing…' : 'Refresh'}
      </button>
      {error ? <ErrorNotice>{error}</ErrorNotice> : null}
      {view === null ? null : (
        <>
          <h2>Replica health</h2>
          <p className={health && health.underReplicated.length > 0 ? 'warning' : 'good'} role="status">
            {health?.underReplicated.length
              ? `${health.underReplicated.length} of ${health.records} records have fewer than 3 copies.`
              : `All ${health?.records ?? 0} records have 3 copies.`}
          </p>
          {health && health.underReplicated.length > 0 ? (
            <ul>
              {health.underReplicated.map((r) => (
                <li key={`${r.kind}/${r.resource}`}>
                  {r.kind} {r.resource}: {r.copies} {r.copies === 1 ? 'copy' : 'copies'}
                </li>
              ))}
            </ul>
          ) : null}
          <h2>Peers on the ring ({view.ring.length})</h2>
          <Table head={['Extension', 'Address', 'Node-ID']}>
            {view.ring.map((p) => (
              <tr key={p.nodeId} className={p.self ? 'self' : undefined}>
                <td>
                  {p.extension ?? '—'}
                  {p.self ? ' (this PC)' : ''}
                </td>
                <td>{p.address}</td>
                <td className="mono">{p.nodeId}</td>
              </tr>
            ))}
          </Table>
          <h2>Records on this PC ({view.records.length})</h2>
          <Table head={['Kind', 'Resource', 'Role', 'Copies']}>
            {view.records.map((r) => (
              <tr key={`${r.kind}/${r.resource}/${r.role}`}>
                <td>{r.kind}</td>
                <td>{r.resource}</td>
                <td>{r.role}</td>
                <td className={r.copies < 3 ? 'warning' : undefined}>{r.copies}</td>
              </tr>
            ))}
          </Table>
        </>
      )}
    </section>
  );
}
