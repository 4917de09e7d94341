import { describe, expect, it } from 'vitest';
import { parseDialPlan, parseUserSettings } from '../../../src/core/pbx/dial-plan-config.ts';
import { planCall } from '../../../src/core/pbx/routing-plan.ts';
import { encodeJson } from '../../../src/core/records/kinds.ts';

describe('parseDialPlan', () => {
  it('reads a full OFFICE-CONFIG value and routes with it', () => {
    const bytes = encodeJson({
      officeName: 'acme',
      extensions: ['101', '102'],
      ringGroups: [{ extension: '600', members: ['101', '102'], strategy: 'hunt', memberTimeoutMs: 5000 }],
      trunks: [{ name: 't', prefix: '0', strip: 1, host: 'sip.example.net', username: 'u', password: 'p' }],
      inbound: { '5550100': '600' },
    });
    const { config, errors } = parseDialPlan(bytes);
    expect(errors).toEqual([]);
    expect(planCall('600', config, () => undefined)).toMatchObject({ type: 'ring', label: 'ring-group' });
    expect(planCall('0049301234', config, () => undefined)).toMatchObject({ type: 'ring', label: 'trunk' });
    expect(planCall('5550100', config, () => undefined, { inbound: true })).toMatchObject({
      label: 'ring-group',
    });
  });

  it('drops malformed entries one by one and keeps the rest', () => {
    const { config, errors } = parseDialPlan({
      extensions: ['101', 7],
      ringGroups: [{ extension: '600', members: 'all' }, { extension: '601', members: ['101'] }, null],
      trunks: [
        { name: 't' },
        { name: 'ok', host: 'h', transport: 'SCTP' },
        { name: 'good', host: 'h', prefix: '9' },
      ],
      dialPlan: 'x',
      inbound: { a: 1 },
    });
    expect(config.ringGroups?.map((g) => g.extension)).toEqual(['601']);
    expect(config.trunks?.map((t) => t.name)).toEqual(['good']);
    expect(config.extensions).toBeUndefined();
    expect(config.inbound).toBeUndefined();
    expect(errors).toHaveLength(7);
  });

  it('never throws on garbage', () => {
    for (const g of [new Uint8Array([0xff]), encodeJson([1]), encodeJson(null), 'str', 42]) {
      expect(parseDialPlan(g).config).toEqual({});
    }
  });
});

describe('parseUserSettings', () => {
  it('accepts good settings and refuses bad ones', () => {
    expect(parseUserSettings(encodeJson({ dnd: false, forwardBusy: '105', noAnswerMs: 15000 }))).toEqual({
      dnd: false,
      forwardBusy: '105',
      noAnswerMs: 15000,
    });
    expect(parseUserSettings(encodeJson({ dnd: 'yes' }))).toBeUndefined();
    expect(parseUserSettings(encodeJson({ dnd: true, noAnswerMs: -1 }))).toBeUndefined();
    expect(parseUserSettings(new Uint8Array([0x7b]))).toBeUndefined();
  });
});
