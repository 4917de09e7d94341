/**
 * A real peer in this process with its engine (the headless UI path, Peer.start + PeerEngine),
 * listening on loopback with OS-chosen ports and LAN discovery off, as the ui-e2e tests run it.
 */
import { PeerEngine } from '../../src/main/engine/peer-engine.ts';
import { createEngineHost } from '../../src/main/engine/peer-host.ts';
import { createLogger } from '../../src/main/log.ts';
import { Peer } from '../../src/main/peer.ts';
import { PASSPHRASE } from '../office/harness.ts';

export async function startHeadlessPeer(
  dataDir: string,
  peers: Array<{ host: string; port: number }>,
): Promise<{ peer: Peer; engine: PeerEngine }> {
  const log = createLogger({ component: 'ui-e2e', dataDir });
  const peer = await Peer.start({
    dataDir,
    bind: '127.0.0.1',
    sipPort: 0,
    overlayPort: 0,
    httpPort: 0,
    peers,
    passphrase: PASSPHRASE,
    discovery: { mdns: false, broadcast: false },
    log,
  });
  return { peer, engine: new PeerEngine(createEngineHost(peer), { log }) };
}
