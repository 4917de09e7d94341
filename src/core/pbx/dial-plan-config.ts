// Reading the dial plan out of an OFFICE-CONFIG value and a callee's USER-SETTINGS value. Both are
// signed, but a bad admin edit must not crash call routing: malformed entries are dropped one by
// one and reported, and everything that is well-formed still routes.

import { decodeJson, type UserSettingsData } from '../records/kinds.ts';
import type { DialPlanConfig, RingGroupConfig, TrunkConfig } from './routing-plan.ts';

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);
const isStr = (x: unknown): x is string => typeof x === 'string';
const optStr = (x: unknown): boolean => x === undefined || isStr(x);
const optNum = (x: unknown): boolean =>
  x === undefined || (typeof x === 'number' && Number.isFinite(x) && x >= 0);

function ringGroup(x: unknown): RingGroupConfig | string {
  if (!isObj(x) || !isStr(x.extension)) return 'ring group needs an extension';
  if (!Array.isArray(x.members) || !x.members.every(isStr))
    return `ring group ${x.extension}: members must be strings`;
  if (x.strategy !== undefined && x.strategy !== 'ring-all' && x.strategy !== 'hunt') {
    return `ring group ${x.extension}: unknown strategy`;
  }
  if (!optNum(x.memberTimeoutMs) || !optStr(x.fallback))
    return `ring group ${x.extension}: bad timeout/fallback`;
  return x as unknown as RingGroupConfig;
}

function trunk(x: unknown): TrunkConfig | string {
  if (!isObj(x) || !isStr(x.name) || !isStr(x.host)) return 'trunk needs a name and a host';
  if (!optStr(x.prefix) || !optNum(x.strip) || !optNum(x.port))
    return `trunk ${x.name}: bad prefix/strip/port`;
  if (x.transport !== undefined && x.transport !== 'UDP' && x.transport !== 'TCP' && x.transport !== 'TLS') {
    return `trunk ${x.name}: unknown transport`;
  }
  if (!optStr(x.username) || !optStr(x.password)) return `trunk ${x.name}: bad credentials`;
  return x as unknown as TrunkConfig;
}

function route(x: unknown): { prefix: string; target: string; strip?: number } | string {
  if (!isObj(x) || !isStr(x.prefix) || !isStr(x.target) || !optNum(x.strip))
    return 'dial plan entry needs prefix and target';
  return x as { prefix: string; target: string; strip?: number };
}

function list<T>(
  v: unknown,
  name: string,
  one: (x: unknown) => T | string,
  errors: string[],
): T[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) {
    errors.push(`${name} must be an array`);
    return undefined;
  }
  const out: T[] = [];
  for (const x of v) {
    const r = one(x);
    if (typeof r === 'string') errors.push(r);
    else out.push(r);
  }
  return out;
}

/** The dial plan of an OFFICE-CONFIG value (bytes or decoded JSON); `errors` lists what was dropped. */
export function parseDialPlan(input: Uint8Array | unknown): { config: DialPlanConfig; errors: string[] } {
  const errors: string[] = [];
  let data: unknown = input;
  if (input instanceof Uint8Array) {
    const d = decodeJson<unknown>(input);
    if (!d.ok) return { config: {}, errors: [d.error] };
    data = d.value;
  }
  if (!isObj(data)) return { config: {}, errors: ['office config is not an object'] };
  const config: DialPlanConfig = {};
  if (data.extensions !== undefined) {
    if (Array.isArray(data.extensions) && data.extensions.every(isStr)) config.extensions = data.extensions;
    else errors.push('extensions must be strings');
  }
  const groups = list(data.ringGroups, 'ringGroups', ringGroup, errors);
  if (groups) config.ringGroups = groups;
  const trunks = list(data.trunks, 'trunks', trunk, errors);
  if (trunks) config.trunks = trunks;
  const routes = list(data.dialPlan, 'dialPlan', route, errors);
  if (routes) config.dialPlan = routes;
  if (data.inbound !== undefined) {
    if (isObj(data.inbound) && Object.values(data.inbound).every(isStr)) {
      config.inbound = data.inbound as Record<string, string>;
    } else errors.push('inbound must map DIDs to extensions');
  }
  return { config, errors };
}

/** A USER-SETTINGS value, or undefined (then the plan uses defaults: ring, then voicemail). */
export function parseUserSettings(bytes: Uint8Array): UserSettingsData | undefined {
  const d = decodeJson<unknown>(bytes);
  if (!d.ok || !isObj(d.value) || typeof d.value.dnd !== 'boolean') return undefined;
  const o = d.value;
  const ok =
    optStr(o.forwardAlways) && optStr(o.forwardBusy) && optStr(o.forwardNoAnswer) && optNum(o.noAnswerMs);
  return ok ? (o as unknown as UserSettingsData) : undefined;
}
