// Voicemail inbox: new and heard, caller, time, duration; play (the decrypted WAV from the engine as
// a blob: URL, allowed by the CSP's media-src), mark heard, delete, save as WAV.
import { useEffect, useRef, useState } from 'react';
import type { VoicemailMessage } from '../../core/api/contract.ts';
import { useApp } from '../app-context.tsx';
import {
  base64ToBlob,
  ErrorNotice,
  errorText,
  formatDuration,
  formatTime,
  NotAvailable,
  partyName,
  useBusy,
} from '../ui.tsx';
import { Waveform } from '../waveform.tsx';
import { Greetings } from './Greetings.tsx';

export function Voicemail() {
  const { can } = useApp();
  return (
    <>
      {can('voicemail.list') ? <Inbox /> : <NotAvailable what="Voicemail" />}
      {can('greeting.set') ? <Greetings /> : null}
    </>
  );
}

function Inbox() {
  const { state } = useApp();
  const messages = state.voicemail;
  const fresh = messages?.filter((m) => !m.heard).length ?? 0;
  return (
    <section aria-labelledby="screen-title">
      {messages === null ? (
        <p role="status">
          Loading messages… <progress aria-label="Loading voicemail" />
        </p>
      ) : messages.length === 0 ? (
        <p>No messages.</p>
      ) : (
        <>
          <p>
            {fresh} new, {messages.length - fresh} heard
          </p>
          <ul className="voicemail-list" aria-label="Messages">
            {messages.map((m) => (
              <VoicemailItem key={m.id} message={m} />
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

function VoicemailItem({ message }: { message: VoicemailMessage }) {
  const { engine, dispatch, state, can } = useApp();
  const [url, setUrl] = useState<string | null>(null);
  const [blob, setBlob] = useState<Blob | null>(null);
  const audioRef = useRef<HTMLAudioElement>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, run] = useBusy();
  useEffect(() => () => void (url && URL.revokeObjectURL(url)), [url]);

  const replace = (m: VoicemailMessage | null) =>
    dispatch({
      type: 'voicemail',
      messages: (state.voicemail ?? []).flatMap((x) => (x.id !== message.id ? [x] : m ? [m] : [])),
    });

  const play = () =>
    void run(async () => {
      setError(null);
      const r = await engine.command({ type: 'voicemail.audio', id: message.id });
      if (!r.ok) return setError(errorText(r));
      const b = base64ToBlob(r.value.base64, r.value.mime);
      setBlob(b);
      setUrl(URL.createObjectURL(b));
      if (!message.heard && can('voicemail.mark-heard')) {
        const h = await engine.command({ type: 'voicemail.mark-heard', id: message.id });
        if (h.ok) replace({ ...message, heard: true });
      }
    });
  const remove = () =>
    void run(async () => {
      setError(null);
      const r = await engine.command({ type: 'voicemail.delete', id: message.id });
      if (!r.ok) return setError(errorText(r));
      replace(null);
    });

  return (
    <li className={message.heard ? 'vm heard' : 'vm new'} data-id={message.id}>
      <div className="vm-head">
        <strong>{partyName(message.from)}</strong>
        <span>{message.heard ? 'Heard' : 'New'}</span>
        <span>{formatTime(message.time)}</span>
        <span>{formatDuration(message.duration)}</span>
      </div>
      <div className="row">
        <button type="button" disabled={busy || !can('voicemail.audio')} onClick={play}>
          {busy ? 'Loading…' : 'Play'}
        </button>
        {url ? (
          <a href={url} download={`voicemail-${message.id}.wav`}>
            Save as WAV
          </a>
        ) : null}
        <button type="button" className="danger" disabled={busy || !can('voicemail.delete')} onClick={remove}>
          Delete
        </button>
      </div>
      {url && blob ? (
        <>
          {/* biome-ignore lint/a11y/useMediaCaption: voicemail is speech with no transcript to caption. */}
          <audio
            ref={audioRef}
            controls
            autoPlay
            src={url}
            aria-label={`Message from ${partyName(message.from)}`}
          />
          <Waveform blob={blob} audio={audioRef} />
        </>
      ) : null}
      {error ? <ErrorNotice>{error}</ErrorNotice> : null}
    </li>
  );
}
