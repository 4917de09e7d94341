// The Electron shell: one instance per PC, a window, a tray showing presence, notifications for
// incoming calls and new voicemail. The peer (the engine) starts with the app and stops cleanly
// on quit: registrations removed, records handed to the successor. Everything else lives in
// src/main (shared with the headless peer) and src/renderer.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  app,
  BrowserWindow,
  ipcMain,
  Menu,
  MessageChannelMain,
  Notification,
  nativeImage,
  session,
  Tray,
} from 'electron';
import type { EngineEvent, PresenceState } from '../../core/api/contract.ts';
import { PRESENCE_LABEL } from '../../core/api/labels.ts';
import { IPC_EVENT } from '../../core/api/wire.ts';
import { type RunningApp, startApp } from '../app.ts';
import { createLogger } from '../log.ts';
import { IPC_AUDIO_PORT, serveAudioOverPort, serveEngineOverIpc } from '../ui-bridge/ipc.ts';
import { hardenContents, hardenSession, isAppUrl, SECURE_WEB_PREFERENCES } from './security.ts';

const log = createLogger({ component: 'electron' });
// dist/electron/main.js sits beside dist/electron/preload.cjs and dist/renderer/.
const rendererIndex = join(__dirname, '..', 'renderer', 'index.html');
const rendererUrl = pathToFileURL(rendererIndex).href;
const assets = join(__dirname, '..', '..', 'assets');

let win: BrowserWindow | null = null;
let tray: Tray | null = null;
let running: RunningApp | null = null;
let quitting = false;
let ownExtension: string | null = null;

function showWindow(): void {
  if (!win) return;
  if (win.isMinimized()) win.restore();
  win.show();
  win.focus();
}

function createWindow(): BrowserWindow {
  const w = new BrowserWindow({
    width: 1280,
    height: 800,
    minWidth: 640,
    minHeight: 480,
    title: 'PeerPBX',
    icon: join(assets, 'icon.png'),
    show: false,
    webPreferences: { ...SECURE_WEB_PREFERENCES, preload: join(__dirname, 'preload.cjs') },
  });
  w.once('ready-to-show', () => w.show());
  // Closing the window keeps the phone running in the tray; Quit in the tray menu ends it.
  w.on('close', (e) => {
    if (!quitting) {
      e.preventDefault();
      w.hide();
    }
  });
  // Each load of the page gets a fresh MessagePort for call audio (binary frames, no JSON).
  let stopAudio: (() => void) | null = null;
  w.webContents.on('did-finish-load', () => {
    stopAudio?.();
    stopAudio = null;
    if (!running || !isAppUrl(w.webContents.getURL(), rendererUrl)) return;
    const { port1, port2 } = new MessageChannelMain();
    stopAudio = serveAudioOverPort(port1, running.engine, log.child({ component: 'ipc-audio' }));
    w.webContents.postMessage(IPC_AUDIO_PORT, null, [port2]);
  });
  w.on('closed', () => stopAudio?.());
  void w.loadURL(rendererUrl);
  return w;
}

function updateTray(state: PresenceState): void {
  tray?.setToolTip(`PeerPBX: ${PRESENCE_LABEL[state]}`);
}

function notifyFor(event: EngineEvent): void {
  if (!Notification.isSupported()) return;
  if (event.type === 'call.incoming') {
    const from = event.call.remote;
    const n = new Notification({
      title: 'Incoming call',
      body: from.displayName || from.extension || 'Unknown caller',
    });
    n.on('click', showWindow);
    n.show();
  } else if (event.type === 'voicemail.new') {
    const from = event.message.from;
    const n = new Notification({
      title: 'New voicemail',
      body: `From ${from.displayName || from.extension || from.uri}`,
    });
    n.on('click', showWindow);
    n.show();
  }
}

async function start(): Promise<void> {
  hardenSession(session.defaultSession, log);
  running = await startApp({ dataDir: app.getPath('userData'), log });
  const stopIpc = serveEngineOverIpc({
    ipcMain,
    engine: running.engine,
    log,
    send: (event) => win?.webContents.send(IPC_EVENT, event),
    trustedSender: (url) => isAppUrl(url, rendererUrl),
  });
  running.engine.on((event) => {
    notifyFor(event);
    if (event.type === 'presence.changed' && event.extension === ownExtension)
      updateTray(event.presence.state);
    if (event.type === 'office.changed') ownExtension = event.status.extension ?? null;
  });
  win = createWindow();
  tray = new Tray(nativeImage.createFromPath(join(assets, 'tray.png')));
  tray.setContextMenu(
    Menu.buildFromTemplate([
      { label: 'Open PeerPBX', click: showWindow },
      { type: 'separator' },
      { label: 'Quit', click: () => app.quit() },
    ]),
  );
  tray.on('click', showWindow);
  updateTray('available');
  app.on('before-quit', () => {
    quitting = true;
    stopIpc();
  });
}

if (!app.requestSingleInstanceLock()) {
  // Another PeerPBX runs on this PC: it gets focus (second-instance event) and we leave.
  app.quit();
} else {
  app.on('second-instance', showWindow);
  // Every web contents (not just the main window's) is hardened.
  app.on('web-contents-created', (_e, contents) => hardenContents(contents, rendererUrl, log));
  app.whenReady().then(start, (err) => {
    log.error('start failed', { err });
    app.exit(1);
  });
  // Stop the peer cleanly before the process ends (graceful leave of the overlay).
  app.on('will-quit', (e) => {
    if (!running) return;
    e.preventDefault();
    const r = running;
    running = null;
    r.stop().then(
      () => app.exit(0),
      (err) => {
        log.error('clean stop failed', { err });
        app.exit(1);
      },
    );
  });
}
