// Hardening of the Electron shell (after Actual's desktop-electron and Electron's security
// checklist): the renderer is sandboxed and isolated, loads only the app's own files, cannot
// navigate or open windows, and may ask for the microphone and nothing else.
import { type Session, shell, type WebContents } from 'electron';
import type { Logger } from '../log.ts';
import { ELECTRON_CSP, isAppUrl } from './policy.ts';

export { ELECTRON_CSP, isAppUrl, SECURE_WEB_PREFERENCES } from './policy.ts';

export function hardenSession(session: Session, log: Logger): void {
  session.setPermissionRequestHandler((_wc, permission, callback, details) => {
    const mediaTypes: string[] = 'mediaTypes' in details ? (details.mediaTypes ?? []) : [];
    const allowed = permission === 'media' && mediaTypes.every((t) => t === 'audio');
    if (!allowed) log.warn('permission request refused', { permission });
    callback(allowed);
  });
  session.setPermissionCheckHandler((_wc, permission) => permission === 'media');
  session.webRequest.onHeadersReceived((details, callback) => {
    callback({
      responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [ELECTRON_CSP] },
    });
  });
}

export function hardenContents(contents: WebContents, rendererIndexUrl: string, log: Logger): void {
  contents.on('will-navigate', (event, url) => {
    if (isAppUrl(url, rendererIndexUrl)) return;
    event.preventDefault();
    log.warn('navigation blocked', { url });
  });
  contents.on('will-attach-webview', (event) => {
    event.preventDefault();
    log.warn('webview blocked');
  });
  contents.setWindowOpenHandler(({ url }) => {
    // Links to the web open in the user's browser, never inside the app.
    if (url.startsWith('https://')) void shell.openExternal(url);
    else log.warn('window.open blocked', { url });
    return { action: 'deny' };
  });
}
