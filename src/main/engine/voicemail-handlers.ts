// The voicemail inbox, greetings and own presence commands over the peer's Mailbox and
// PresenceService (interfaces in host.ts; the modules are src/main/voicemail and src/main/presence).
import type { Presence, VoicemailMessage } from '../../core/api/contract.ts';
import { type CommandHandlers, errReply, okReply } from '../../core/api/engine.ts';
import { partyOf } from './calls.ts';
import type { EngineHost, HostMailboxMessage, HostPresenceView } from './host.ts';

/** The contract's limit on voicemail.audio / greeting.get (base64 characters). */
const MAX_AUDIO_BASE64 = 8_000_000;

export function voicemailMessageOf(m: HostMailboxMessage): VoicemailMessage {
  return {
    id: m.id.slice(0, 200),
    from: partyOf(m.from),
    time: Math.max(0, m.time),
    // The box stores ms of audio (VoicemailEntryData.duration); the contract speaks seconds.
    duration: Math.max(0, Math.round(m.duration / 100) / 10),
    heard: m.heard,
  };
}

export function presenceOf(p: HostPresenceView): Presence {
  return { state: p.state, ...(p.note ? { note: p.note.slice(0, 140) } : {}), since: Math.max(0, p.since) };
}

const toBase64 = (bytes: Uint8Array) =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');

type WithHost = <T>(f: (host: EngineHost) => T) => T | ReturnType<typeof errReply>;

export function voicemailHandlers(
  withHost: WithHost,
  onOwnPresence: (extension: string, p: Presence) => void,
): CommandHandlers {
  const noBox = () => errReply('not-available', 'voicemail is not running on this peer');
  /** Runs `f` for a message of the box, not-found for an id it does not hold. */
  const known = <T>(host: EngineHost, id: string, f: () => Promise<T>) => {
    const box = host.mailbox;
    if (!box) return noBox();
    if (!box.list().some((m) => m.id === id)) return errReply('not-found', `no voicemail ${id}`);
    return f();
  };
  return {
    'voicemail.list': () =>
      withHost((host) =>
        host.mailbox
          ? okReply<'voicemail.list'>({ messages: host.mailbox.list().map(voicemailMessageOf) })
          : noBox(),
      ),
    'voicemail.mark-heard': (cmd) =>
      withHost((host) =>
        known(host, cmd.id, async () => {
          await host.mailbox?.markHeard(cmd.id);
          return okReply<'voicemail.mark-heard'>({});
        }),
      ),
    'voicemail.delete': (cmd) =>
      withHost((host) =>
        known(host, cmd.id, async () => {
          await host.mailbox?.delete(cmd.id);
          return okReply<'voicemail.delete'>({});
        }),
      ),
    'voicemail.audio': (cmd) =>
      withHost((host) =>
        known(host, cmd.id, async () => {
          const wav = await host.mailbox?.audio(cmd.id);
          if (!wav) return noBox();
          const base64 = toBase64(wav);
          if (base64.length > MAX_AUDIO_BASE64)
            return errReply('internal', 'the message is too long to play here');
          return okReply<'voicemail.audio'>({ mime: 'audio/wav', base64 });
        }),
      ),
    'greeting.get': (cmd) =>
      withHost(async (host) => {
        if (!host.mailbox) return noBox();
        const wav = await host.mailbox.getGreeting(cmd.kind);
        return okReply<'greeting.get'>({ base64: wav ? toBase64(wav) : null });
      }),
    'greeting.set': (cmd) =>
      withHost(async (host) => {
        if (!host.mailbox) return noBox();
        const wav = cmd.base64 === null ? null : new Uint8Array(Buffer.from(cmd.base64, 'base64'));
        try {
          await host.mailbox.setGreeting(cmd.kind, wav);
        } catch (err) {
          return errReply('invalid', (err as Error).message);
        }
        return okReply<'greeting.set'>({});
      }),
    'presence.set': (cmd) =>
      withHost(async (host) => {
        if (!host.presence) return errReply('not-available', 'presence is not running on this peer');
        const view = presenceOf(await host.presence.set(cmd.state, cmd.note));
        onOwnPresence(host.identity().extension, view);
        return okReply<'presence.set'>(view);
      }),
  };
}
