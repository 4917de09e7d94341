// Small shared pieces: labels for contract values, an error notice that takes focus, a labelled
// field, progress of long operations, and the "not available yet" placeholder.
import { type ReactNode, useCallback, useEffect, useId, useRef, useState } from 'react';
import type { ApiErrorCode, ApiFailure, Party, Presence } from '../core/api/contract.ts';
import { PRESENCE_LABEL } from '../core/api/labels.ts';
import type { ProgressEvent } from './state.ts';

export { PRESENCE_LABEL };

/** Generic wording per error code; screens add what is specific to them. */
export const ERROR_TEXT: Record<ApiErrorCode, string> = {
  'not-available': 'This is not available yet in this version of the peer.',
  invalid: 'The peer refused the request as invalid.',
  'not-enrolled': 'This PC has not joined an office yet.',
  'already-enrolled': 'This PC already belongs to an office.',
  'not-admin': 'Only an office admin can do this.',
  'extension-taken': 'That extension is already taken in this office. Choose another one.',
  'wrong-code': 'That join code is wrong or has already been used. Ask your admin for a new code.',
  'no-office-found':
    'No office was found on this network. Check that this PC is on the office network, or enter the address of a PC in the office (for example 192.168.1.20:7070).',
  denied: 'The admin refused the request.',
  'not-found': 'Not found.',
  unreachable: 'The peer cannot be reached right now.',
  busy: 'Busy: try again in a moment.',
  timeout: 'The operation timed out.',
  internal: 'Something went wrong inside the peer (see its log).',
};

export const errorText = (f: ApiFailure): string => ERROR_TEXT[f.error] ?? f.message ?? f.error;

export function PresenceBadge({ presence }: { presence: Presence }) {
  return (
    <span className={`presence presence-${presence.state}`}>
      <span className="dot" aria-hidden="true" />
      {PRESENCE_LABEL[presence.state]}
      {presence.note ? <span className="note"> · {presence.note}</span> : null}
    </span>
  );
}

export const partyName = (p: Party): string =>
  p.displayName && p.extension
    ? `${p.displayName} (${p.extension})`
    : (p.displayName ?? p.extension ?? p.uri);

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(h ? 2 : 1, '0');
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

export const formatTime = (ms: number): string =>
  new Date(ms).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'short' });

/** An error message announced to screen readers and focused, so keyboard users land on it. */
export function ErrorNotice({ children }: { children: ReactNode }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => ref.current?.focus(), []);
  return (
    <div className="error" role="alert" tabIndex={-1} ref={ref}>
      {children}
    </div>
  );
}

export function Field(props: {
  label: string;
  value: string;
  onChange: (v: string) => void;
  hint?: string;
  error?: string | null;
  type?: string;
  inputMode?: 'numeric' | 'text';
  autoComplete?: string;
  required?: boolean;
  placeholder?: string;
}) {
  const id = useId();
  const describedBy = [props.hint ? `${id}-hint` : '', props.error ? `${id}-err` : '']
    .filter(Boolean)
    .join(' ');
  return (
    <div className="field">
      <label htmlFor={id}>{props.label}</label>
      <input
        id={id}
        type={props.type ?? 'text'}
        value={props.value}
        inputMode={props.inputMode}
        autoComplete={props.autoComplete ?? 'off'}
        required={props.required}
        placeholder={props.placeholder}
        aria-invalid={props.error ? true : undefined}
        aria-describedby={describedBy || undefined}
        onChange={(e) => props.onChange(e.target.value)}
      />
      {props.hint ? (
        <div className="hint" id={`${id}-hint`}>
          {props.hint}
        </div>
      ) : null}
      {props.error ? (
        <div className="field-error" id={`${id}-err`}>
          {props.error}
        </div>
      ) : null}
    </div>
  );
}

export function ProgressList({ items }: { items: ProgressEvent[] }) {
  if (items.length === 0) return null;
  return (
    <section className="progress-list" aria-label="Operations in progress">
      {items.map((p) => (
        <div key={p.operation} className="progress-item" role="status">
          <span>{p.error ? `${p.label}: ${p.error}` : p.label}</span>
          {p.error ? null : p.fraction === null ? (
            <progress aria-label={p.label} />
          ) : (
            <progress aria-label={p.label} max={1} value={p.fraction} />
          )}
        </div>
      ))}
    </section>
  );
}

export function NotAvailable({ what }: { what: string }) {
  return (
    <p className="not-available" role="note">
      {what} is not available yet: this peer's engine does not offer it.
    </p>
  );
}

/** Seconds since `since`, ticking once a second while mounted (call timers). */
export function useElapsed(since: number | undefined, now: () => number = Date.now): number {
  const [t, setT] = useState(now);
  useEffect(() => {
    if (since === undefined) return;
    const h = setInterval(() => setT(now()), 1000);
    return () => clearInterval(h);
  }, [since, now]);
  return since === undefined ? 0 : Math.max(0, (t - since) / 1000);
}

/** Runs an engine call, tracking busy state so buttons disable and never double-submit. */
export function useBusy(): [boolean, <T>(f: () => Promise<T>) => Promise<T>] {
  const [busy, setBusy] = useState(false);
  // Stable identity: screens put `run` in effect dependencies (a new one per render would loop).
  const run = useCallback(async <T,>(f: () => Promise<T>): Promise<T> => {
    setBusy(true);
    try {
      return await f();
    } finally {
      setBusy(false);
    }
  }, []);
  return [busy, run];
}

/** A scrollable table with column headers; a header given as null is an unlabelled action column. */
export function Table({ head, children }: { head: (string | null)[]; children: ReactNode }) {
  return (
    <div className="table-wrap">
      <table>
        <thead>
          <tr>
            {head.map((h, i) => (
              <th key={h ?? `col-${i}`} scope="col">
                {h ?? <span className="visually-hidden">Actions</span>}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

/** Decodes an engine payload (base64) into a Blob for a blob: URL (allowed by media-src). */
export function base64ToBlob(b64: string, mime: string): Blob {
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new Blob([bytes], { type: mime });
}
