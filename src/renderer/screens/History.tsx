// Call history (newest first), with a call-back button.
import { useEffect, useState } from 'react';
import type { HistoryEntry } from '../../core/api/contract.ts';
import { useApp } from '../app-context.tsx';
import {
  ErrorNotice,
  errorText,
  formatDuration,
  formatTime,
  NotAvailable,
  partyName,
  Table,
} from '../ui.tsx';

const DIRECTION: Record<HistoryEntry['direction'], string> = {
  in: 'Incoming',
  out: 'Outgoing',
  missed: 'Missed',
};

export function History() {
  const { engine, can, state } = useApp();
  const [entries, setEntries] = useState<HistoryEntry[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const available = can('history.list');
  // Reload when a call ends (the call count drops), so the new entry shows.
  const calls = state.calls.length;
  // biome-ignore lint/correctness/useExhaustiveDependencies: `calls` is the reload trigger.
  useEffect(() => {
    if (!available) return;
    void engine.command({ type: 'history.list', limit: 200 }).then((r) => {
      if (r.ok) setEntries(r.value.entries);
      else setError(errorText(r));
    });
  }, [engine, available, calls]);

  if (!available) return <NotAvailable what="Call history" />;
  return (
    <section aria-labelledby="screen-title">
      {error ? <ErrorNotice>{error}</ErrorNotice> : null}
      {entries === null ? (
        <p role="status">
          Loading… <progress aria-label="Loading call history" />
        </p>
      ) : entries.length === 0 ? (
        <p>No calls yet.</p>
      ) : (
        <Table head={['When', 'Who', 'Direction', 'Duration', null]}>
          {entries.map((e) => (
            <tr key={e.id} className={e.direction === 'missed' ? 'missed' : undefined}>
              <td>{formatTime(e.startedAt)}</td>
              <td>{partyName(e.remote)}</td>
              <td>{DIRECTION[e.direction]}</td>
              <td>{formatDuration(e.duration)}</td>
              <td>
                <button
                  type="button"
                  disabled={!can('call.dial')}
                  aria-label={`Call back ${partyName(e.remote)}`}
                  onClick={() =>
                    void engine.command({ type: 'call.dial', target: e.remote.extension ?? e.remote.uri })
                  }
                >
                  Call back
                </button>
              </td>
            </tr>
          ))}
        </Table>
      )}
    </section>
  );
}
