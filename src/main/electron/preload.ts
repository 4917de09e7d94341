// The preload: exposes exactly the engine contract (src/core/api) and nothing else. It runs
// sandboxed, so it imports only 'electron'; the channel names are duplicated from
// src/core/api/wire.ts (bundling keeps them in sync: see the import below).
import { contextBridge, type IpcRendererEvent, ipcRenderer } from 'electron';
import { IPC_COMMAND, IPC_EVENT } from '../../core/api/wire.ts';

// The call-audio MessagePort from main goes to the page as a message (contextBridge cannot carry
// ports); the page's IpcTransport takes it (src/renderer/transport.ts, AUDIO_PORT_MESSAGE).
const AUDIO_PORT = 'peerpbx:audio-port';
ipcRenderer.on(AUDIO_PORT, (e) => window.postMessage(AUDIO_PORT, '*', e.ports));

contextBridge.exposeInMainWorld('peerpbx', {
  command: (command: unknown): Promise<unknown> => ipcRenderer.invoke(IPC_COMMAND, command),
  on: (handler: (event: unknown) => void): (() => void) => {
    const listener = (_e: IpcRendererEvent, event: unknown) => handler(event);
    ipcRenderer.on(IPC_EVENT, listener);
    return () => ipcRenderer.removeListener(IPC_EVENT, listener);
  },
});
