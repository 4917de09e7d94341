// USER-SETTINGS has three writers on a peer: the settings screen (engine), presence (DND) and the
// mailbox (the *97 PIN). Each goes through OfficePbx.updateUserSettings (latest record, patch
// merged, stored; serialized on the peer), so none drops another's field, even when they run at
// the same moment. A real peer (Peer.start, the composition root `peerpbx run` uses), in process.
import { afterAll, describe, expect, it } from 'vitest';
import { createEngineHost } from '../../src/main/engine/peer-host.ts';
import { createLogger, setLogLevel } from '../../src/main/log.ts';
import { createOffice } from '../../src/main/office/office.ts';
import { Peer } from '../../src/main/peer.ts';
import { voicemailPinHash } from '../../src/main/voicemail/mailbox.ts';
import { tempDir } from '../helpers/processes.ts';

process.env.PEERPBX_CA_KDF_ITERATIONS = '2000';
setLogLevel('error');
const closers: Array<() => Promise<unknown> | unknown> = [];
afterAll(async () => {
  for (const c of closers.reverse()) await c();
});

describe('USER-SETTINGS read-modify-write through OfficePbx', () => {
  it('DND, forwarding and the voicemail PIN written at once all survive', async () => {
    const dataDir = `${tempDir('peerpbx-settings-')}/pc`;
    createOffice({ dataDir, name: 'setco', extension: '101', passphrase: 'passphrase-1' });
    const peer = await Peer.start({
      dataDir,
      bind: '127.0.0.1',
      sipPort: 0,
      overlayPort: 0,
      peers: [],
      discovery: { mdns: false, broadcast: false },
      log: createLogger({ component: 'test' }),
    });
    closers.push(() => peer.stop());
    const pbx = peer.pbx!;
    const settings = createEngineHost(peer)?.settings;
    if (!settings || !peer.mailbox || !peer.presence) throw new Error('peer parts missing');

    // Three writers at the same moment: with unserialized read-modify-write the last store wins.
    await Promise.all([
      peer.mailbox.setPin('4321'),
      peer.presence.set('dnd'),
      settings.update({ forwardBusy: '102', noAnswerMs: 9000 }),
    ]);
    const pin = voicemailPinHash('setco', '101', '4321');
    expect(await pbx.getUserSettings()).toEqual({
      dnd: true,
      forwardBusy: '102',
      noAnswerMs: 9000,
      voicemailPinHash: pin,
    });

    // A caller that does not read first (a patch) keeps the PIN; undefined removes a field.
    expect(await pbx.updateUserSettings({ dnd: false, forwardBusy: undefined })).toEqual({
      dnd: false,
      noAnswerMs: 9000,
      voicemailPinHash: pin,
    });
    expect(await settings.get()).toEqual({ dnd: false, noAnswerMs: 9000, voicemailPinHash: pin });
  }, 60_000);
});
