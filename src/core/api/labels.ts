// Words for contract values that every UI shows the same way (renderer, tray, notifications).
import type { PresenceState } from './contract.ts';

export const PRESENCE_LABEL: Record<PresenceState, string> = {
  available: 'Available',
  ringing: 'Ringing',
  'on-call': 'On a call',
  dnd: 'Do not disturb',
  away: 'Away',
  offline: 'Offline',
};
