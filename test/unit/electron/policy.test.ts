import { describe, expect, it } from 'vitest';
import { ELECTRON_CSP, isAppUrl, SECURE_WEB_PREFERENCES } from '../../../src/main/electron/policy.ts';

describe('the Electron shell policy', () => {
  const index = 'file:///opt/PeerPBX/resources/app.asar/dist/renderer/index.html';

  it('lets the window navigate only inside the packaged renderer', () => {
    expect(isAppUrl(index, index)).toBe(true);
    expect(
      isAppUrl('file:///opt/PeerPBX/resources/app.asar/dist/renderer/index.html#/voicemail', index),
    ).toBe(true);
    expect(isAppUrl('file:///etc/passwd', index)).toBe(false);
    expect(isAppUrl('file:///opt/PeerPBX/resources/app.asar/dist/other.html', index)).toBe(false);
    expect(isAppUrl('https://example.com/', index)).toBe(false);
    expect(isAppUrl('http://127.0.0.1:8080/', index)).toBe(false);
  });

  it('isolates and sandboxes the renderer', () => {
    expect(SECURE_WEB_PREFERENCES).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
    });
  });

  it('has a CSP without inline scripts or remote sources', () => {
    expect(ELECTRON_CSP).toContain("script-src 'self'");
    expect(ELECTRON_CSP).toContain("object-src 'none'");
    expect(ELECTRON_CSP).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
  });
});
