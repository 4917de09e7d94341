import { describe, expect, it } from 'vitest';
import {
  type DialPlanConfig,
  dialledUser,
  type Fallback,
  fallbackFor,
  outcomeOfStatus,
  planCall,
  type RingStep,
  type RoutePlan,
} from '../../../src/core/pbx/routing-plan.ts';
import type { UserSettingsData } from '../../../src/core/records/kinds.ts';

const TRUNK = {
  name: 'itsp',
  prefix: '9',
  strip: 1,
  host: 'trunk.example.net',
  port: 5070,
  username: 'u',
  password: 'p',
};
const CONFIG: DialPlanConfig = {
  extensions: ['101', '102', '103', '104', '105'],
  ringGroups: [
    { extension: '600', members: ['101', '102', '103'], strategy: 'ring-all', memberTimeoutMs: 15_000 },
    {
      extension: '601',
      members: ['101', '102', '103'],
      strategy: 'hunt',
      memberTimeoutMs: 8_000,
      fallback: '105',
    },
  ],
  trunks: [TRUNK, { name: 'intl', prefix: '900', strip: 1, host: 'intl.example.net', transport: 'TCP' }],
  inbound: { '5551234': '101', '5550600': '600' },
};

const SETTINGS: Record<string, UserSettingsData> = {
  '102': { dnd: true },
  '103': { dnd: false, forwardAlways: '104' },
  '104': { dnd: false, forwardBusy: '105', forwardNoAnswer: '9123456', noAnswerMs: 12_000 },
  '105': { dnd: true, forwardBusy: '101' },
};
const settingsOf = (ext: string) => SETTINGS[ext];

const ring = (ext: string, timeoutMs: number): RingStep => ({
  targets: [{ type: 'extension', extension: ext }],
  timeoutMs,
});
const vm = (extension: string): Fallback => ({ type: 'voicemail', extension });
const fwd = (target: string): Fallback => ({ type: 'forward', target });

// One row per feature combination: dialled, context, expected plan.
const TABLE: Array<[string, string, { inbound?: boolean; depth?: number }, RoutePlan]> = [
  [
    'plain extension, no settings: ring 20 s, then voicemail on everything',
    '101',
    {},
    {
      type: 'ring',
      label: 'extension',
      steps: [ring('101', 20_000)],
      onBusy: vm('101'),
      onNoAnswer: vm('101'),
      onUnavailable: vm('101'),
    },
  ],
  [
    'DND without forward: straight to voicemail',
    '102',
    {},
    { type: 'divert', reason: 'dnd', fallback: vm('102') },
  ],
  ['DND with forward-busy: forwarded', '105', {}, { type: 'divert', reason: 'dnd', fallback: fwd('101') }],
  [
    'forward always wins over ringing',
    '103',
    {},
    { type: 'divert', reason: 'forward-always', fallback: fwd('104') },
  ],
  [
    'forward busy + no answer after N s',
    '104',
    {},
    {
      type: 'ring',
      label: 'extension',
      steps: [ring('104', 12_000)],
      onBusy: fwd('105'),
      onNoAnswer: fwd('9123456'),
      onUnavailable: fwd('9123456'),
    },
  ],
  [
    'ring group ring-all skips DND members (102)',
    '600',
    {},
    {
      type: 'ring',
      label: 'ring-group',
      steps: [
        {
          targets: [
            { type: 'extension', extension: '101' },
            { type: 'extension', extension: '103' },
          ],
          timeoutMs: 15_000,
        },
      ],
      onBusy: { type: 'reject', status: 480 },
      onNoAnswer: { type: 'reject', status: 480 },
      onUnavailable: { type: 'reject', status: 480 },
    },
  ],
  [
    'ring group hunt: one step per member, fallback to a dialled target',
    '601',
    {},
    {
      type: 'ring',
      label: 'ring-group',
      steps: [ring('101', 8_000), ring('103', 8_000)],
      onBusy: fwd('105'),
      onNoAnswer: fwd('105'),
      onUnavailable: fwd('105'),
    },
  ],
  [
    'trunk prefix with strip',
    '90123456',
    {},
    {
      type: 'ring',
      label: 'trunk',
      steps: [
        {
          targets: [
            { type: 'trunk', trunk: TRUNK, number: '0123456', uri: 'sip:0123456@trunk.example.net:5070' },
          ],
        },
      ],
      onBusy: { type: 'reject', status: 486 },
      onNoAnswer: { type: 'reject', status: 480 },
      onUnavailable: { type: 'reject', status: 480 },
    },
  ],
  ['unknown number', '77', {}, { type: 'reject', status: 404, reason: 'no route for 77' }],
  ['voicemail access code', '*97', {}, { type: 'voicemail-access' }],
  [
    'inbound DID to an extension',
    '5551234',
    { inbound: true },
    {
      type: 'ring',
      label: 'extension',
      steps: [ring('101', 20_000)],
      onBusy: vm('101'),
      onNoAnswer: vm('101'),
      onUnavailable: vm('101'),
    },
  ],
  [
    'inbound unknown DID',
    '5559999',
    { inbound: true },
    { type: 'reject', status: 404, reason: 'no route for DID 5559999' },
  ],
  ['forwarding loop guard', '101', { depth: 6 }, { type: 'reject', status: 482, reason: 'forwarding loop' }],
];

describe('planCall: feature table', () => {
  for (const [name, dialled, ctx, expected] of TABLE) {
    it(name, () => {
      expect(planCall(dialled, CONFIG, settingsOf, ctx)).toEqual(expected);
    });
  }

  it('longest trunk prefix wins and carries the transport', () => {
    const p = planCall('9001234', CONFIG, settingsOf);
    expect(p.type === 'ring' && p.steps[0].targets[0]).toMatchObject({
      type: 'trunk',
      number: '001234',
      uri: 'sip:001234@intl.example.net:5060;transport=tcp',
    });
  });

  it('an inbound DID mapped to a ring group rings the group', () => {
    const p = planCall('sip:5550600@trunk.example.net', CONFIG, settingsOf, { inbound: true });
    expect(p).toMatchObject({ type: 'ring', label: 'ring-group' });
  });

  it('an inbound call never goes out through a trunk', () => {
    const cfg: DialPlanConfig = { ...CONFIG, inbound: { '1': '90123456' } };
    expect(planCall('1', cfg, settingsOf, { inbound: true })).toMatchObject({ type: 'reject', status: 404 });
  });

  it('without an extension list any 2-6 digit string is an extension', () => {
    expect(planCall('4711', {}, () => undefined)).toMatchObject({ type: 'ring', label: 'extension' });
    expect(planCall('abc', {}, () => undefined)).toMatchObject({ type: 'reject', status: 404 });
  });

  it('legacy dialPlan prefix routes name a trunk', () => {
    const cfg: DialPlanConfig = {
      trunks: [{ name: 'gw', host: 'gw.lan' }],
      dialPlan: [{ prefix: '0', target: 'gw' }],
    };
    const p = planCall('0815', cfg, () => undefined);
    expect(p.type === 'ring' && p.steps[0].targets[0]).toMatchObject({ uri: 'sip:0815@gw.lan:5060' });
  });

  it('a ring group whose members are all in DND diverts to its fallback', () => {
    const cfg: DialPlanConfig = { ringGroups: [{ extension: '700', members: ['102'], fallback: '101' }] };
    expect(planCall('700', cfg, settingsOf)).toEqual({ type: 'divert', reason: 'dnd', fallback: fwd('101') });
  });
});

describe('fallbacks', () => {
  it('maps final statuses to outcomes and outcomes to the plan fallback', () => {
    expect([486, 600, 603, 408, 487, 480, 404, 500].map(outcomeOfStatus)).toEqual([
      'busy',
      'busy',
      'busy',
      'no-answer',
      'no-answer',
      'unavailable',
      'unavailable',
      'unavailable',
    ]);
    const p = planCall('104', CONFIG, settingsOf);
    if (p.type !== 'ring') throw new Error('expected ring');
    expect(fallbackFor(p, outcomeOfStatus(486))).toEqual(fwd('105'));
    expect(fallbackFor(p, outcomeOfStatus(408))).toEqual(fwd('9123456'));
  });

  it('dialledUser takes the user part of URIs', () => {
    expect(dialledUser('sip:101@office;user=phone')).toBe('101');
    expect(dialledUser('tel:5551234')).toBe('5551234');
    expect(dialledUser(' 102 ')).toBe('102');
  });
});
