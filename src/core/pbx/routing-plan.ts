// The call routing decision: dialled string + dial plan (OFFICE-CONFIG) + the callee's
// USER-SETTINGS -> a plan of what to ring and what to do on busy / no answer / unavailable.
// Pure and table-driven: the caller resolves extensions to contacts (overlay lookups) and runs the
// plan through the proxy or the UA. Forward targets are dialled strings, planned again by the
// caller with depth + 1 (so a forward to a ring group or a trunk works too).

import type { TransportName } from '../net.ts';
import type { UserSettingsData } from '../records/kinds.ts';

export type RingStrategy = 'ring-all' | 'hunt';

export interface RingGroupConfig {
  extension: string;
  members: string[];
  /** Default ring-all. */
  strategy?: RingStrategy;
  /** Hunt: ms each member rings before the next one. Ring-all: ms the whole group rings. */
  memberTimeoutMs?: number;
  /** Where an unanswered group call goes (a dialled string); default 480. */
  fallback?: string;
}

export interface TrunkConfig {
  name: string;
  /** Dialled numbers starting with this prefix go to the trunk (longest prefix wins). */
  prefix?: string;
  /** Leading characters to strip before sending (default 0). */
  strip?: number;
  host: string;
  port?: number;
  transport?: TransportName;
  /** Outbound digest credentials the trunk may ask for. */
  username?: string;
  password?: string;
}

/** The dial-plan part of OFFICE-CONFIG (a superset of records/kinds.ts OfficeConfigData). */
export interface DialPlanConfig {
  /** Known extensions; when absent any 2-6 digit string is treated as an extension. */
  extensions?: string[];
  ringGroups?: RingGroupConfig[];
  trunks?: TrunkConfig[];
  /** Extra prefix routes naming a trunk (legacy OfficeConfigData.dialPlan form). */
  dialPlan?: Array<{ prefix: string; target: string; strip?: number }>;
  /** Inbound DID -> extension or ring group. */
  inbound?: Record<string, string>;
}

export const DEFAULT_NO_ANSWER_MS = 20_000;
export const MAX_FORWARD_DEPTH = 5;
export const VOICEMAIL_ACCESS = '*97';

export type RingTarget =
  | { type: 'extension'; extension: string }
  | { type: 'trunk'; trunk: TrunkConfig; number: string; uri: string };

export interface RingStep {
  targets: RingTarget[];
  /** Cancel the step after this long; absent = ring until the caller gives up (or Timer C). */
  timeoutMs?: number;
}

export type Fallback =
  | { type: 'forward'; target: string }
  | { type: 'voicemail'; extension: string }
  | { type: 'reject'; status: number };

export type RoutePlan =
  /** Ring the steps in order (each step forks to all its targets); then the matching fallback. */
  | {
      type: 'ring';
      label: 'extension' | 'ring-group' | 'trunk';
      steps: RingStep[];
      onBusy: Fallback;
      onNoAnswer: Fallback;
      /** No live contact at all (offline). */
      onUnavailable: Fallback;
    }
  /** Nothing rings: forward-always or DND. */
  | { type: 'divert'; reason: 'forward-always' | 'dnd'; fallback: Fallback }
  | { type: 'voicemail-access' }
  | { type: 'reject'; status: number; reason: string };

export interface PlanContext {
  /** The call arrived from a trunk: `dialled` is a DID, mapped through `inbound`. */
  inbound?: boolean;
  /** How many forwards led here (0 for the original call). */
  depth?: number;
}

export type SettingsLookup = (extension: string) => UserSettingsData | undefined;

const DIGITS = /^[0-9]{2,6}$/;

/** "sip:101@office" / "101" / "tel:101" -> "101": only the user part matters for the plan. */
export function dialledUser(dialled: string): string {
  const m = /^(?:sips?:|tel:)?([^@;]*)/i.exec(dialled.trim());
  return m ? m[1] : '';
}

function isExtension(cfg: DialPlanConfig, s: string): boolean {
  return cfg.extensions ? cfg.extensions.includes(s) : DIGITS.test(s);
}

function trunkRoute(cfg: DialPlanConfig, number: string): RingTarget | null {
  type Route = { prefix: string; strip: number; trunk: TrunkConfig };
  const routes: Route[] = [];
  for (const t of cfg.trunks ?? []) {
    if (t.prefix !== undefined) routes.push({ prefix: t.prefix, strip: t.strip ?? 0, trunk: t });
  }
  for (const d of cfg.dialPlan ?? []) {
    const trunk = cfg.trunks?.find((t) => t.name === d.target);
    if (trunk) routes.push({ prefix: d.prefix, strip: d.strip ?? 0, trunk });
  }
  let best: Route | null = null;
  for (const r of routes) {
    if (number.startsWith(r.prefix) && (!best || r.prefix.length > best.prefix.length)) best = r;
  }
  if (!best) return null;
  const out = number.slice(best.strip);
  const t = best.trunk;
  const transport = t.transport ?? 'UDP';
  const port = t.port ?? (transport === 'TLS' ? 5061 : 5060);
  const uri = `sip:${out}@${t.host}:${port}${transport === 'UDP' ? '' : `;transport=${transport.toLowerCase()}`}`;
  return { type: 'trunk', trunk: t, number: out, uri };
}

function forwardOr(target: string | undefined, fallback: Fallback): Fallback {
  return target ? { type: 'forward', target } : fallback;
}

function planGroup(g: RingGroupConfig, settingsOf: SettingsLookup): RoutePlan {
  // Members in DND are skipped; their own forwarding does not apply inside a group.
  const members = g.members.filter((m) => !settingsOf(m)?.dnd);
  const fallback: Fallback = g.fallback
    ? { type: 'forward', target: g.fallback }
    : { type: 'reject', status: 480 };
  if (members.length === 0) return { type: 'divert', reason: 'dnd', fallback: fallback };
  const timeout = g.memberTimeoutMs ?? DEFAULT_NO_ANSWER_MS;
  const steps: RingStep[] =
    g.strategy === 'hunt'
      ? members.map((m) => ({ targets: [{ type: 'extension', extension: m }], timeoutMs: timeout }))
      : [{ targets: members.map((m) => ({ type: 'extension', extension: m })), timeoutMs: timeout }];
  return {
    type: 'ring',
    label: 'ring-group',
    steps,
    onBusy: fallback,
    onNoAnswer: fallback,
    onUnavailable: fallback,
  };
}

function planExtension(ext: string, settings: UserSettingsData | undefined): RoutePlan {
  const voicemail: Fallback = { type: 'voicemail', extension: ext };
  if (settings?.forwardAlways) {
    return {
      type: 'divert',
      reason: 'forward-always',
      fallback: { type: 'forward', target: settings.forwardAlways },
    };
  }
  if (settings?.dnd)
    return { type: 'divert', reason: 'dnd', fallback: forwardOr(settings.forwardBusy, voicemail) };
  return {
    type: 'ring',
    label: 'extension',
    steps: [
      {
        targets: [{ type: 'extension', extension: ext }],
        timeoutMs: settings?.noAnswerMs ?? DEFAULT_NO_ANSWER_MS,
      },
    ],
    onBusy: forwardOr(settings?.forwardBusy, voicemail),
    onNoAnswer: forwardOr(settings?.forwardNoAnswer, voicemail),
    // Offline behaves like no answer: the forward-no-answer target is where the user wants missed calls.
    onUnavailable: forwardOr(settings?.forwardNoAnswer, voicemail),
  };
}

/** The routing plan for one dialled string. */
export function planCall(
  dialled: string,
  cfg: DialPlanConfig,
  settingsOf: SettingsLookup,
  ctx: PlanContext = {},
): RoutePlan {
  if ((ctx.depth ?? 0) > MAX_FORWARD_DEPTH) return { type: 'reject', status: 482, reason: 'forwarding loop' };
  let user = dialledUser(dialled);
  if (ctx.inbound) {
    const mapped = cfg.inbound?.[user];
    if (mapped === undefined) return { type: 'reject', status: 404, reason: `no route for DID ${user}` };
    user = mapped;
  }
  if (user === VOICEMAIL_ACCESS && !ctx.inbound) return { type: 'voicemail-access' };
  const group = cfg.ringGroups?.find((g) => g.extension === user);
  if (group) return planGroup(group, settingsOf);
  if (cfg.extensions?.includes(user)) return planExtension(user, settingsOf(user));
  // Inbound trunk calls never leave through a trunk again (no toll fraud via DID maps).
  const trunk = ctx.inbound ? null : trunkRoute(cfg, user);
  // Without an extension list, a trunk prefix beats the "looks like an extension" guess.
  if (!trunk && isExtension(cfg, user)) return planExtension(user, settingsOf(user));
  if (trunk) {
    const reject: Fallback = { type: 'reject', status: 480 };
    return {
      type: 'ring',
      label: 'trunk',
      steps: [{ targets: [trunk] }],
      onBusy: { type: 'reject', status: 486 },
      onNoAnswer: reject,
      onUnavailable: reject,
    };
  }
  return { type: 'reject', status: 404, reason: `no route for ${user}` };
}

/** Which fallback applies after a ring plan ended with `outcome`. */
export function fallbackFor(
  plan: Extract<RoutePlan, { type: 'ring' }>,
  outcome: 'busy' | 'no-answer' | 'unavailable',
): Fallback {
  return outcome === 'busy' ? plan.onBusy : outcome === 'no-answer' ? plan.onNoAnswer : plan.onUnavailable;
}

/** Classifies a final failure status of a ring step: 486/600/603 busy, 408/487 no answer, else unavailable. */
export function outcomeOfStatus(status: number): 'busy' | 'no-answer' | 'unavailable' {
  if (status === 486 || status === 600 || status === 603) return 'busy';
  if (status === 408 || status === 487) return 'no-answer';
  return 'unavailable';
}
