// The desktop app without Electron: the same engine as the Electron shell (startApp: first-run
// create/join, calls, the office) with its UI served to the browser on 127.0.0.1. `npm start` runs
// this where Electron's binary is missing.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { startApp } from '../app.ts';
import { startPeerUi } from '../engine/ui.ts';
import { createLogger } from '../log.ts';

const log = createLogger({ component: 'browser-app' });
const dataDir = process.env.PEERPBX_DATA ?? join(homedir(), '.peerpbx');
const httpPort = Number(process.env.PEERPBX_HTTP_PORT ?? 8080);

try {
  const app = await startApp({ dataDir, log });
  const ui = await startPeerUi({ engine: app.engine, dataDir, httpPort, log });
  console.log(`PeerPBX is running. Open ${ui.url} in your browser (data folder ${dataDir}).`);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal });
    await ui.close();
    await app.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
} catch (err) {
  console.error(`peerpbx: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
