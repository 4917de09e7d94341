// The headless peer's UI (`peerpbx run --http-port N`): the built renderer and the engine over the
// token-protected WebSocket, on 127.0.0.1 only. The token is the data folder's (DATA/ui-token).
import type { Engine } from '../../core/api/engine.ts';
import type { Logger } from '../log.ts';
import { loadUiToken, RENDERER_DIR, startUiBridge } from '../ui-bridge/index.ts';

export interface PeerUiOptions {
  engine: Engine;
  dataDir: string;
  /** 0 picks a free port. */
  httpPort: number;
  log: Logger;
  /** The built renderer (default dist/renderer). */
  staticDir?: string;
}

export interface PeerUi {
  /** http://127.0.0.1:PORT/#token=...: print it for the user, never log it elsewhere. */
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startPeerUi(opts: PeerUiOptions): Promise<PeerUi> {
  const bridge = await startUiBridge({
    engine: opts.engine,
    port: opts.httpPort,
    token: loadUiToken(opts.dataDir),
    staticDir: opts.staticDir ?? RENDERER_DIR,
    log: opts.log.child({ component: 'ui' }),
  });
  return { url: bridge.url, port: bridge.port, close: () => bridge.close() };
}
