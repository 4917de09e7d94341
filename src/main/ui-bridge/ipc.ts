// The Electron side of the contract, kept free of `electron` imports so it type-checks and is
// tested without the binary: the shell passes its ipcMain and a sender for the window.
//   const stop = serveEngineOverIpc({ ipcMain, engine, send: (ev) => win.webContents.send(IPC_EVENT, ev), log,
//                                     trustedSender: (url) => url.startsWith('file://') });

import type { EngineEvent } from '../../core/api/contract.ts';
import { dispatchUntrusted, type Engine, errReply } from '../../core/api/engine.ts';
import { IPC_COMMAND } from '../../core/api/wire.ts';
import type { Logger } from '../log.ts';

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
