// One log line per softphone event, for `peerpbx run --auto-answer`: what an operator (or a test
// reading stderr) needs to follow calls without a UI.
import type { Logger } from '../log.ts';
import type { PhoneEvent, SoftPhone } from './soft-phone.ts';

export function phoneEventFields(e: PhoneEvent): Record<string, unknown> {
  switch (e.type) {
    case 'incoming':
      return { call: e.call, from: e.from };
    case 'ringing':
      return { call: e.call, status: e.status };
    case 'answered':
      return { call: e.call, codec: e.remote.codec.name, remote: `${e.remote.address}:${e.remote.port}` };
    case 'media-updated':
      return {
        call: e.call,
        sending: e.sending,
        receiving: e.receiving,
        held: e.held,
        remoteHold: e.remoteHold,
      };
    case 'dtmf':
      return { call: e.call, digit: e.digit };
    case 'media-stats':
    case 'ended': {
      const s = e.stats;
      const media = s
        ? { sent: s.packetsSent, received: s.packetsReceived, lost: s.lost, jitterMs: +s.jitterMs.toFixed(2) }
        : {};
      if (e.type === 'media-stats') return { call: e.call, ...media };
      return { call: e.call, reason: e.reason, status: e.status, recording: e.recording, ...media };
    }
  }
}

/** Logs every event of the phone; returns the unsubscribe function. */
export function logPhoneEvents(phone: SoftPhone, log: Logger): () => void {
  return phone.on((e) => {
    const level = e.type === 'media-stats' ? 'debug' : 'info';
    log[level](`call ${e.type}`, phoneEventFields(e));
  });
}
