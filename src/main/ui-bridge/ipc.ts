// The Electron side of the contract, kept free of `electron` imports so it type-checks and is
// tested without the binary: the shell passes its ipcMain and a sender for the window.
//   const stop = serveEngineOverIpc({ ipcMain, engine, send: (ev) => win.webContents.send(IPC_EVENT, ev), log,
//                                     trustedSender: (url) => url.startsWith('file://') });

import type { EngineEvent } from '../../core/api/contract.ts';
import { dispatchUntrusted, type Engine, errReply } from '../../core/api/engine.ts';
import { IPC_COMMAND } from '../../core/api/wire.ts';
import type { Logger } from '../log.ts';
import { openAudioChannel } from './audio.ts';

/** The part of Electron's ipcMain used here. */
export interface IpcMainLike {
  handle(
    channel: string,
    listener: (event: { senderFrame?: { url: string } | null }, payload: unknown) => unknown,
  ): void;
  removeHandler(channel: string): void;
}

export interface IpcEngineOptions {
  ipcMain: IpcMainLike;
  engine: Engine;
  send: (event: EngineEvent) => void;
  log: Logger;
  /** Only frames at these URLs (the app's own renderer) may command the engine. */
  trustedSender: (url: string) => boolean;
}

/** Serves the engine on IPC_COMMAND and pushes its events; returns the function that stops both. */
export function serveEngineOverIpc(opts: IpcEngineOptions): () => void {
  const { ipcMain, engine, log } = opts;
  ipcMain.handle(IPC_COMMAND, (event, payload) => {
    const url = event.senderFrame?.url ?? '';
    if (!opts.trustedSender(url)) {
      log.warn('ipc command from an untrusted frame refused', { url });
      return errReply('invalid', 'untrusted sender');
    }
    return dispatchUntrusted(engine, payload, (error) => log.warn('invalid ipc command', { error }));
  });
  const off = engine.on((event) => {
    try {
      opts.send(event);
    } catch (err) {
      log.warn('ipc event not delivered', { type: event.type, err });
    }
  });
  return () => {
    off();
    ipcMain.removeHandler(IPC_COMMAND);
  };
}

/** The part of Electron's MessagePortMain used for call audio (structural: no electron import). */
export interface AudioPortLike {
  on(event: 'message', listener: (e: { data: unknown }) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  postMessage(message: unknown): void;
  start(): void;
  close(): void;
}

/** The IPC channel on which main hands the window its audio MessagePort (preload relays it). */
export const IPC_AUDIO_PORT = 'peerpbx:audio-port';

/**
 * Carries call audio over a MessagePort (Electron: MessageChannelMain's port1; the window gets
 * port2): the same frames, validation and limits as the WebSocket bridge. Returns the stop.
 */
export function serveAudioOverPort(port: AudioPortLike, engine: Engine, log: Logger): () => void {
  const channel = openAudioChannel({
    engine,
    log,
    send: (bytes) => {
      port.postMessage(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
      return true;
    },
  });
  port.on('message', (e) => {
    const d = e.data;
    if (d instanceof ArrayBuffer) channel.receive(new Uint8Array(d));
    else if (d instanceof Uint8Array) channel.receive(d);
    else log.warn('non-binary message on the audio port dropped', { type: typeof d });
  });
  port.on('close', () => channel.close());
  port.start();
  return () => {
    channel.close();
    port.close();
  };
}
