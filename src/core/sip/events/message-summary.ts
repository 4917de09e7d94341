// The message-summary event package's body, application/simple-message-summary (RFC 3842 section
// 5): the message-waiting lamp of desk phones.
//   Messages-Waiting: yes
//   Message-Account: sip:101@office
//   Voice-Message: 2/8 (0/0)

export const MESSAGE_SUMMARY_CONTENT_TYPE = 'application/simple-message-summary';

export interface MessageCounts {
  newMessages: number;
  oldMessages: number;
  newUrgent?: number;
  oldUrgent?: number;
}

export interface MessageSummary {
  waiting: boolean;
  account?: string;
  /** Per message-context-class, lower-cased (voice-message, fax-message, ...). */
  classes: Record<string, MessageCounts>;
}

const MAX_BODY = 8 * 1024;
const MAX_LINES = 64;
const MAX_COUNT = 1_000_000_000;

/** Canonical spelling of the classes RFC 3842 names (what phones expect to see). */
const CLASS_NAMES: Record<string, string> = {
  'voice-message': 'Voice-Message',
  'fax-message': 'Fax-Message',
  'pager-message': 'Pager-Message',
  'multimedia-message': 'Multimedia-Message',
  'text-message': 'Text-Message',
  none: 'None',
};

function countOk(n: number | undefined): boolean {
  return n === undefined || (Number.isInteger(n) && n >= 0 && n <= MAX_COUNT);
}

export function buildMessageSummary(s: MessageSummary): string {
  const lines = [`Messages-Waiting: ${s.waiting ? 'yes' : 'no'}`];
  if (s.account) lines.push(`Message-Account: ${s.account.replace(/[\r\n]/g, '')}`);
  for (const [cls, c] of Object.entries(s.classes)) {
    const name = CLASS_NAMES[cls];
    if (!name || !countOk(c.newMessages) || !countOk(c.oldMessages)) continue;
    let line = `${name}: ${c.newMessages}/${c.oldMessages}`;
    if (c.newUrgent !== undefined || c.oldUrgent !== undefined)
      line += ` (${c.newUrgent ?? 0}/${c.oldUrgent ?? 0})`;
    lines.push(line);
  }
  return `${lines.join('\r\n')}\r\n`;
}

export type MessageSummaryResult = { ok: true; value: MessageSummary } | { ok: false; error: string };

/** Subscriber side (and tests). Unknown headers and message headers after a blank line are ignored. */
export function parseMessageSummary(body: string): MessageSummaryResult {
  if (body.length > MAX_BODY) return { ok: false, error: 'message summary too large' };
  const lines = body.split(/\r?\n/);
  if (lines.length > MAX_LINES) return { ok: false, error: 'message summary has too many lines' };
  let waiting: boolean | null = null;
  let account: string | undefined;
  const classes: Record<string, MessageCounts> = {};
  for (const line of lines) {
    if (line.trim() === '') {
      if (waiting !== null) break; // optional message headers follow a blank line
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) return { ok: false, error: `line without a colon: "${line.slice(0, 40)}"` };
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'messages-waiting') {
      const v = value.toLowerCase();
      if (v !== 'yes' && v !== 'no')
        return { ok: false, error: `Messages-Waiting is "${value.slice(0, 20)}"` };
      waiting = v === 'yes';
    } else if (name === 'message-account') {
      account = value;
    } else if (name in CLASS_NAMES) {
      const m = /^([0-9]{1,10})\/([0-9]{1,10})(?:\s*\(([0-9]{1,10})\/([0-9]{1,10})\))?$/.exec(value);
      if (!m) return { ok: false, error: `bad ${name} counts "${value.slice(0, 40)}"` };
      const counts: MessageCounts = { newMessages: Number(m[1]), oldMessages: Number(m[2]) };
      if (m[3] !== undefined) {
        counts.newUrgent = Number(m[3]);
        counts.oldUrgent = Number(m[4]);
      }
      if (![counts.newMessages, counts.oldMessages, counts.newUrgent, counts.oldUrgent].every(countOk))
        return { ok: false, error: `${name} count out of range` };
      classes[name] = counts;
    }
  }
  if (waiting === null) return { ok: false, error: 'no Messages-Waiting line' };
  return { ok: true, value: { waiting, ...(account ? { account } : {}), classes } };
}
