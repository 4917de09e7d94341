// The Engine: what main implements and what every UI transport carries (Electron IPC, WebSocket).
// `UnavailableEngine` is a base that answers `not-available` for every command it has no handler for,
// so the UI can show "not available yet" while the peer grows (issues 4-6), and it turns a throwing
// handler into an `internal` reply instead of a dead request.
import {
  type ApiErrorCode,
  type ApiFailure,
  COMMAND_TYPES,
  type Command,
  type CommandOf,
  type CommandType,
  commandSchema,
  type EngineEvent,
  type Reply,
  type ResultOf,
} from './contract.ts';

export type EventHandler = (event: EngineEvent) => void;

/** Called with each frame of a call's far-end audio (16-bit PCM at `sampleRate`). */
export type SpeakerListener = (callId: string, sampleRate: number, samples: Int16Array) => void;

/**
 * A call's audio between the UI and the engine (see audio-frame.ts for the wire form): the UI's
 * microphone in, the far end out. Optional: an engine without calls has none.
 */
export interface EngineAudio {
  /** A frame of the UI's microphone for a live call (any of AUDIO_RATES; the engine resamples). */
  microphone(callId: string, sampleRate: number, samples: Int16Array): void;
  onSpeaker(listener: SpeakerListener): () => void;
}

export interface Engine {
  /** Never rejects: failures are `{ ok: false, error }` replies. */
  command<C extends Command>(cmd: C): Promise<Reply<C['type']>>;
  /** Subscribes to pushed events; returns the unsubscribe function. */
  on(handler: EventHandler): () => void;
  /** The calls' audio channel, when the engine carries calls. */
  readonly audio?: EngineAudio;
}

export type CommandHandlers = {
  [T in CommandType]?: (cmd: CommandOf<T>) => Promise<Reply<T>> | Reply<T>;
};

export const okReply = <T extends CommandType>(value: ResultOf<T>): Reply<T> => ({ ok: true, value });
export const errReply = (error: ApiErrorCode, message?: string): ApiFailure =>
  message === undefined ? { ok: false, error } : { ok: false, error, message };

export class UnavailableEngine implements Engine {
  private readonly handlers = new Set<EventHandler>();

  constructor(
    private readonly commands: CommandHandlers = {},
    private readonly onError: (msg: string, fields: Record<string, unknown>) => void = () => {},
  ) {}

  /** The command types this engine answers (plus `engine.capabilities` itself). */
  capabilities(): CommandType[] {
    return COMMAND_TYPES.filter((t) => t === 'engine.capabilities' || this.commands[t] !== undefined);
  }

  async command<C extends Command>(cmd: C): Promise<Reply<C['type']>> {
    if (cmd.type === 'engine.capabilities')
      return okReply<'engine.capabilities'>({ commands: this.capabilities() }) as Reply<C['type']>;
    const handler = this.commands[cmd.type] as
      | ((c: C) => Promise<Reply<C['type']>> | Reply<C['type']>)
      | undefined;
    if (!handler) return errReply('not-available', `${cmd.type} is not available yet`);
    try {
      return await handler(cmd);
    } catch (err) {
      this.onError('engine command failed', { type: cmd.type, err });
      return errReply('internal', (err as Error)?.message ?? String(err));
    }
  }

  on(handler: EventHandler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  /** Pushes an event to every subscriber; one failing subscriber does not starve the others. */
  emit(event: EngineEvent): void {
    for (const h of [...this.handlers]) {
      try {
        h(event);
      } catch (err) {
        this.onError('event handler failed', { type: event.type, err });
      }
    }
  }
}

/**
 * Validates an untrusted command payload (from IPC or a socket) and runs it. Invalid payloads get an
 * `invalid` reply and are reported through `onInvalid` (the caller logs them with its context).
 */
export async function dispatchUntrusted(
  engine: Engine,
  payload: unknown,
  onInvalid: (error: string) => void,
): Promise<Reply<CommandType> | ApiFailure> {
  const parsed = commandSchema.parse(payload, 'command');
  if (!parsed.ok) {
    onInvalid(parsed.error);
    return errReply('invalid', parsed.error);
  }
  return engine.command(parsed.value);
}
