// Voicemail greetings (unavailable, busy): upload a WAV file, listen to it, or go back to the
// default prompt. The file is checked to be a WAV before it is sent.
import { type ChangeEvent, useCallback, useEffect, useState } from 'react';
import type { GreetingKind } from '../../core/api/contract.ts';
import { useApp } from '../app-context.tsx';
import { MAX_GREETING_SECONDS, type Recording, startRecording } from '../recorder.ts';
import { base64ToBlob, ErrorNotice, errorText, useBusy } from '../ui.tsx';

const KIND_LABEL: Record<GreetingKind, string> = {
  unavailable: 'When you do not answer',
  busy: 'When you are busy',
};
const MAX_BYTES = 3_000_000;

function bytesToBase64(bytes: Uint8Array): string {
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

const isWav = (b: Uint8Array) =>
  b.length > 44 &&
  String.fromCharCode(...b.subarray(0, 4)) === 'RIFF' &&
  String.fromCharCode(...b.subarray(8, 12)) === 'WAVE';

export function Greetings() {
  return (
    <section aria-labelledby="greetings-title">
      <h2 id="greetings-title">Greetings</h2>
      {(Object.keys(KIND_LABEL) as GreetingKind[]).map((k) => (
        <Greeting key={k} kind={k} />
      ))}
    </section>
  );
}

function Greeting({ kind }: { kind: GreetingKind }) {
  const { engine, can } = useApp();
  const [url, setUrl] = useState<string | null>(null);
  const [custom, setCustom] = useState<boolean | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, run] = useBusy();

  const load = useCallback(async () => {
    if (!can('greeting.get')) return;
    const r = await engine.command({ type: 'greeting.get', kind });
    if (!r.ok) return setError(errorText(r));
    setCustom(r.value.base64 !== null);
    setUrl((old) => {
      if (old) URL.revokeObjectURL(old);
      return r.value.base64 ? URL.createObjectURL(base64ToBlob(r.value.base64, 'audio/wav')) : null;
    });
  }, [engine, can, kind]);
  useEffect(() => {
    void load();
  }, [load]);

  const upload = (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0];
    e.target.value = '';
    if (!file) return;
    void run(async () => {
      setError(null);
      if (file.size > MAX_BYTES) return setError('That file is too large: at most 3 MB (about 3 minutes).');
      const bytes = new Uint8Array(await file.arrayBuffer());
      if (!isWav(bytes)) return setError('That is not a WAV file. Save the greeting as .wav and try again.');
      const r = await engine.command({ type: 'greeting.set', kind, base64: bytesToBase64(bytes) });
      if (!r.ok) return setError(errorText(r));
      await load();
    });
  };
  const reset = () =>
    void run(async () => {
      const r = await engine.command({ type: 'greeting.set', kind, base64: null });
      if (!r.ok) return setError(errorText(r));
      await load();
    });

  // Recording from the microphone: Record, then Stop saves it as this greeting.
  const [recording, setRecording] = useState<Recording | null>(null);
  const [level, setLevel] = useState(0);
  const record = () =>
    void run(async () => {
      setError(null);
      try {
        setRecording(await startRecording(setLevel));
      } catch (err) {
        setError(`Microphone unavailable: ${(err as Error).message || String(err)}`);
      }
    });
  const stop = () =>
    void run(async () => {
      const rec = recording;
      setRecording(null);
      if (!rec) return;
      const wav = await rec.stop();
      const r = await engine.command({ type: 'greeting.set', kind, base64: bytesToBase64(wav) });
      if (!r.ok) return setError(errorText(r));
      await load();
    });
  useEffect(() => () => recording?.cancel(), [recording]);

  const inputId = `greeting-${kind}`;
  return (
    <div className="greeting" data-kind={kind}>
      <h3>{KIND_LABEL[kind]}</h3>
      <p>{custom === null ? '…' : custom ? 'Your own greeting' : 'The default greeting'}</p>
      {url ? (
        // biome-ignore lint/a11y/useMediaCaption: a spoken greeting the user recorded; no transcript exists.
        <audio controls src={url} aria-label={`Greeting: ${KIND_LABEL[kind]}`} />
      ) : null}
      <div className="row">
        {recording ? (
          <>
            <button type="button" className="danger" onClick={stop}>
              Stop and save
            </button>
            <label className="meter">
              <span>Recording (at most {MAX_GREETING_SECONDS} s)</span>
              <meter min={0} max={1} value={level} />
            </label>
          </>
        ) : (
          <button type="button" disabled={busy} onClick={record}>
            Record
          </button>
        )}
        <label htmlFor={inputId} className="file">
          Upload a WAV file
        </label>
        <input
          id={inputId}
          type="file"
          accept=".wav,audio/wav,audio/x-wav"
          disabled={busy}
          onChange={upload}
        />
        {custom ? (
          <button type="button" disabled={busy} onClick={reset}>
            Use the default
          </button>
        ) : null}
      </div>
      {error ? <ErrorNotice>{error}</ErrorNotice> : null}
    </div>
  );
}
