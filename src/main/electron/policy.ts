// The shell's security policy as plain data and pure functions (no 'electron' import), so that it
// is unit-tested without the Electron binary.

export const APP_ORIGIN_PREFIX = 'file://';

/** The strict CSP of the packaged renderer (no inline scripts, no remote content). */
export const ELECTRON_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "media-src 'self' blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const SECURE_WEB_PREFERENCES = {
  contextIsolation: true,
  sandbox: true,
  nodeIntegration: false,
  nodeIntegrationInWorker: false,
  webSecurity: true,
  allowRunningInsecureContent: false,
  spellcheck: false,
} as const;

export function isAppUrl(url: string, rendererIndexUrl: string): boolean {
  const base = rendererIndexUrl.slice(0, rendererIndexUrl.lastIndexOf('/') + 1);
  return url.startsWith(APP_ORIGIN_PREFIX) && url.startsWith(base);
}
