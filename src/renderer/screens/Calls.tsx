// Calls: an incoming call (answer, decline, send to voicemail) and a call in progress (timer, mute,
// hold, transfer, DTMF keypad, hang up). Shown above every screen while a call exists. Transfer is
// blind (to a number) or attended: "Consult" holds this call and calls the new party; once they
// answer, "Complete transfer" on the held call connects the two and leaves this user out.
import { type FormEvent, useEffect, useRef, useState } from 'react';
import type { Call } from '../../core/api/contract.ts';
import { useApp } from '../app-context.tsx';
import { CallAudio } from '../microphone.tsx';
import { ErrorNotice, errorText, formatDuration, partyName, useBusy, useElapsed } from '../ui.tsx';
import { Keypad } from './Home.tsx';

const STATE_LABEL: Record<Call['state'], string> = {
  dialing: 'Calling…',
  ringing: 'Ringing…',
  incoming: 'Incoming call',
  active: 'In call',
  held: 'On hold',
  ended: 'Ended',
};

export function CallPanel() {
  const { state } = useApp();
  if (state.calls.length === 0) return null;
  return (
    <section className="calls" aria-label="Calls">
      {state.calls.map((c) =>
        c.state === 'incoming' ? <IncomingCall key={c.id} call={c} /> : <ActiveCall key={c.id} call={c} />,
      )}
    </section>
  );
}

function useCallCommand(): [boolean, string | null, (f: () => Promise<{ ok: boolean } & object>) => void] {
  const [busy, run] = useBusy();
  const [error, setError] = useState<string | null>(null);
  const exec = (f: () => Promise<{ ok: boolean } & object>) =>
    void run(async () => {
      setError(null);
      const r = await f();
      if (!r.ok) setError(errorText(r as never));
    });
  return [busy, error, exec];
}

function IncomingCall({ call }: { call: Call }) {
  const { engine } = useApp();
  const [busy, error, exec] = useCallCommand();
  const answerRef = useRef<HTMLButtonElement>(null);
  useEffect(() => answerRef.current?.focus(), []);
  return (
    <div className="call incoming" role="alertdialog" aria-labelledby={`call-${call.id}`}>
      <h2 id={`call-${call.id}`}>Incoming call from {partyName(call.remote)}</h2>
      <div className="row">
        <button
          ref={answerRef}
          type="button"
          className="primary"
          disabled={busy}
          onClick={() => exec(() => engine.command({ type: 'call.answer', callId: call.id }))}
        >
          Answer
        </button>
        <button
          type="button"
          disabled={busy}
          onClick={() => exec(() => engine.command({ type: 'call.decline', callId: call.id }))}
        >
          Decline
        </button>
        <button
          type="button"
          disabled={busy}
          onClick={() =>
            exec(() => engine.command({ type: 'call.decline', callId: call.id, toVoicemail: true }))
          }
        >
          Send to voicemail
        </button>
      </div>
      {error ? <ErrorNotice>{error}</ErrorNotice> : null}
    </div>
  );
}

function ActiveCall({ call }: { call: Call }) {
  const { engine, state } = useApp();
  const [busy, error, exec] = useCallCommand();
  const [showKeypad, setShowKeypad] = useState(false);
  const [transferTo, setTransferTo] = useState('');
  const elapsed = useElapsed(call.answeredAt);
  const id = call.id;
  const transfer = (e: FormEvent) => {
    e.preventDefault();
    if (transferTo.trim())
      exec(() => engine.command({ type: 'call.transfer', callId: id, target: transferTo.trim() }));
  };
  const consult = () => {
    const target = transferTo.trim();
    if (!target) return;
    exec(async () => {
      if (!call.onHold) {
        const held = await engine.command({ type: 'call.hold', callId: id, on: true });
        if (!held.ok) return held;
      }
      return engine.command({ type: 'call.dial', target });
    });
  };
  // Answered calls besides this one: each can take this call's place (attended transfer).
  const consultations = call.onHold
    ? state.calls.filter((c) => c.id !== id && c.answeredAt !== undefined && c.state !== 'ended')
    : [];
  return (
    <section className="call active" aria-labelledby={`call-${id}`}>
      <h2 id={`call-${id}`}>{partyName(call.remote)}</h2>
      <p className="call-state" aria-live="polite">
        {STATE_LABEL[call.state]}
        {call.answeredAt !== undefined ? (
          <>
            {' · '}
            <span className="timer" title="Call duration">
              {formatDuration(elapsed)}
            </span>
          </>
        ) : null}
        {call.muted ? ' · Muted' : ''}
      </p>
      <div className="row">
        <button
          type="button"
          aria-pressed={call.muted}
          disabled={busy}
          onClick={() => exec(() => engine.command({ type: 'call.mute', callId: id, on: !call.muted }))}
        >
          {call.muted ? 'Unmute' : 'Mute'}
        </button>
        <button
          type="button"
          aria-pressed={call.onHold}
          disabled={busy || call.state === 'dialing' || call.state === 'ringing'}
          onClick={() => exec(() => engine.command({ type: 'call.hold', callId: id, on: !call.onHold }))}
        >
          {call.onHold ? 'Resume' : 'Hold'}
        </button>
        <button type="button" aria-expanded={showKeypad} onClick={() => setShowKeypad((v) => !v)}>
          Keypad
        </button>
        <button
          type="button"
          className="danger"
          disabled={busy}
          onClick={() => exec(() => engine.command({ type: 'call.hangup', callId: id }))}
        >
          Hang up
        </button>
      </div>
      {call.state === 'active' || call.state === 'held' ? <CallAudio callId={id} muted={call.muted} /> : null}
      {showKeypad ? (
        <Keypad
          label="Send tones"
          onKey={(k) => exec(() => engine.command({ type: 'call.dtmf', callId: id, digits: k }))}
        />
      ) : null}
      <form className="row" onSubmit={transfer}>
        <label className="search">
          <span>Transfer to</span>
          <input value={transferTo} onChange={(e) => setTransferTo(e.target.value)} inputMode="tel" />
        </label>
        <button type="submit" disabled={busy || !transferTo.trim()}>
          Transfer
        </button>
        <button
          type="button"
          disabled={busy || !transferTo.trim() || call.answeredAt === undefined}
          title="Hold this call and call the new party first"
          onClick={consult}
        >
          Consult
        </button>
      </form>
      {consultations.map((c) => (
        <div className="row" key={c.id}>
          <button
            type="button"
            className="primary"
            disabled={busy}
            onClick={() =>
              exec(() => engine.command({ type: 'call.transfer', callId: id, consultCallId: c.id }))
            }
          >
            Complete transfer to {partyName(c.remote)}
          </button>
        </div>
      ))}
      {error ? <ErrorNotice>{error}</ErrorNotice> : null}
    </section>
  );
}
