// The settings screens' commands: forwarding and DND (USER-SETTINGS), desk-phone accounts, the
// office config (trunks, routes, inbound DIDs, ring groups; admin) and the admin unlock. The
// stored forms (UserSettingsData, DialPlanConfig) are mapped to the contract's here; whatever a
// record holds that the contract cannot show is kept on write and left out on read.
import {
  extension as extensionSchema,
  type Forwarding,
  type OfficeConfig,
  type Settings,
  trunk as trunkSchema,
} from '../../core/api/contract.ts';
import { type CommandHandlers, errReply, okReply } from '../../core/api/engine.ts';
import type { DialPlanConfig } from '../../core/pbx/routing-plan.ts';
import type { UserSettingsData } from '../../core/records/kinds.ts';
import type { EngineHost } from './host.ts';

const DEFAULT_NO_ANSWER_SECONDS = 20;
const ext = (v: string | undefined): string | null =>
  v !== undefined && extensionSchema.parse(v).ok ? v : null;

export function settingsOf(s: UserSettingsData): Settings {
  const seconds = Math.round((s.noAnswerMs ?? DEFAULT_NO_ANSWER_SECONDS * 1000) / 1000);
  return {
    dnd: s.dnd === true,
    forwarding: {
      always: ext(s.forwardAlways),
      busy: ext(s.forwardBusy),
      noAnswer: ext(s.forwardNoAnswer),
      noAnswerSeconds: Math.min(120, Math.max(5, seconds)),
    },
  };
}

export function forwardingChange(f: Forwarding): Partial<UserSettingsData> {
  return {
    forwardAlways: f.always ?? undefined,
    forwardBusy: f.busy ?? undefined,
    forwardNoAnswer: f.noAnswer ?? undefined,
    noAnswerMs: f.noAnswerSeconds * 1000,
  };
}

/** The contract's view of a dial plan: entries the contract cannot carry are left out. */
export function officeConfigOf(c: DialPlanConfig): OfficeConfig {
  const valid = <T>(parse: (v: unknown) => { ok: boolean }, xs: T[] | undefined) =>
    (xs ?? []).filter((x) => parse(x).ok);
  return {
    trunks: valid((v) => trunkSchema.parse(v), c.trunks).slice(0, 20),
    routes: (c.dialPlan ?? []).slice(0, 100),
    inbound: Object.entries(c.inbound ?? {})
      .map(([did, target]) => ({ did, target }))
      .filter((r) => /^[0-9*#+]{1,32}$/.test(r.did) && extensionSchema.parse(r.target).ok)
      .slice(0, 500),
    ringGroups: (c.ringGroups ?? [])
      .filter((g) => extensionSchema.parse(g.extension).ok)
      .slice(0, 50)
      .map((g) => ({
        extension: g.extension,
        members: g.members.filter((m) => extensionSchema.parse(m).ok).slice(0, 50),
        strategy: g.strategy ?? 'ring-all',
        ...(g.memberTimeoutMs
          ? { memberTimeoutSeconds: Math.min(120, Math.max(5, Math.round(g.memberTimeoutMs / 1000))) }
          : {}),
      })),
  };
}

/** The stored dial plan after an edit; what the contract does not edit (extensions, fallbacks) stays. */
export function dialPlanOf(edit: OfficeConfig, current: DialPlanConfig): DialPlanConfig {
  const fallback = new Map((current.ringGroups ?? []).map((g) => [g.extension, g.fallback]));
  const out: DialPlanConfig = {
    ...(current.extensions ? { extensions: current.extensions } : {}),
    trunks: edit.trunks,
    dialPlan: edit.routes,
    inbound: Object.fromEntries(edit.inbound.map((r) => [r.did, r.target])),
    ringGroups: edit.ringGroups.map((g) => {
      const f = fallback.get(g.extension);
      return {
        extension: g.extension,
        members: g.members,
        strategy: g.strategy,
        ...(g.memberTimeoutSeconds ? { memberTimeoutMs: g.memberTimeoutSeconds * 1000 } : {}),
        ...(f ? { fallback: f } : {}),
      };
    }),
  };
  return out;
}

type WithHost = <T>(f: (host: EngineHost) => T) => T | ReturnType<typeof errReply>;

export function settingsHandlers(withHost: WithHost): CommandHandlers {
  const unavailable = (what: string) =>
    errReply('not-available', `${what}: the phone system of this peer is not running`);
  return {
    'settings.get': () =>
      withHost(async (host) => {
        if (!host.settings) return unavailable('settings');
        return okReply<'settings.get'>(settingsOf(await host.settings.get()));
      }),
    'settings.set': (cmd) =>
      withHost(async (host) => {
        if (!host.settings) return unavailable('settings');
        let stored = await host.settings.get();
        if (cmd.forwarding) stored = await host.settings.update(forwardingChange(cmd.forwarding));
        if (cmd.dnd !== undefined && cmd.dnd !== (stored.dnd === true)) {
          // Presence owns DND when it runs (it shows in the directory and writes USER-SETTINGS.dnd).
          if (host.presence) await host.presence.set(cmd.dnd ? 'dnd' : 'available');
          else await host.settings.update({ dnd: cmd.dnd });
          stored = await host.settings.get();
          stored = { ...stored, dnd: cmd.dnd };
        }
        return okReply<'settings.set'>(settingsOf(stored));
      }),
    'phones.list': () =>
      withHost((host) =>
        host.phones ? okReply<'phones.list'>({ phones: host.phones.list() }) : unavailable('desk phones'),
      ),
    'phones.add': (cmd) =>
      withHost((host) => {
        if (!host.phones) return unavailable('desk phones');
        try {
          host.phones.add(cmd.extension, cmd.password);
        } catch (err) {
          return errReply('invalid', (err as Error).message);
        }
        return okReply<'phones.add'>({});
      }),
    'phones.remove': (cmd) =>
      withHost((host) => {
        if (!host.phones) return unavailable('desk phones');
        return host.phones.remove(cmd.extension)
          ? okReply<'phones.remove'>({})
          : errReply('not-found', `no desk-phone account ${cmd.extension}`);
      }),
    'office-config.get': () =>
      withHost(async (host) => {
        if (!host.officeConfig) return unavailable('office config');
        return okReply<'office-config.get'>(officeConfigOf(await host.officeConfig.get()));
      }),
    'office-config.set': (cmd) =>
      withHost(async (host) => {
        if (!host.officeConfig) return unavailable('office config');
        if (!host.identity().admin)
          return errReply('not-admin', 'only the office admin edits the office config');
        const plan = dialPlanOf(cmd.config, await host.officeConfig.get());
        await host.officeConfig.set(plan);
        return okReply<'office-config.set'>(officeConfigOf(plan));
      }),
  };
}
