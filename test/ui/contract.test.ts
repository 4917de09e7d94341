// The contract's runtime validation: hostile payloads never throw, are refused with a path, and
// only declared keys survive; replies are checked against the command they answer.
import { describe, expect, it } from 'vitest';
import {
  COMMAND_TYPES,
  COMMANDS,
  commandSchema,
  eventSchema,
  replySchema,
} from '../../src/core/api/contract.ts';
import { dispatchUntrusted, errReply, okReply, UnavailableEngine } from '../../src/core/api/engine.ts';
import { parseClientMessage, parseServerMessage } from '../../src/core/api/wire.ts';

describe('command validation', () => {
  it('accepts a well-formed command and drops undeclared keys (no __proto__ smuggling)', () => {
    const raw = JSON.parse('{"type":"lookup","extension":"101","extra":1,"__proto__":{"admin":true}}');
    const r = commandSchema.parse(raw);
    expect(r).toEqual({ ok: true, value: { type: 'lookup', extension: '101' } });
    if (r.ok) expect(Object.getPrototypeOf(r.value)).toBe(Object.prototype);
  });

  it('refuses wrong types, formats, unknown commands and oversize strings with a path', () => {
    const bad: [unknown, RegExp][] = [
      [{ type: 'lookup', extension: 101 }, /extension: expected a string/],
      [{ type: 'lookup', extension: '10a' }, /extension: has the wrong format/],
      [{ type: 'lookup' }, /extension/],
      [{ type: 'format-disk' }, /type: unknown/],
      [{ type: 'toString' }, /type: unknown/],
      [{ type: 'call.dtmf', callId: 'c', digits: 'x' }, /digits/],
      [{ type: 'presence.set', state: 'ringing' }, /state: expected one of available, dnd, away/],
      [{ type: 'office.join', extension: '101', displayName: 'x'.repeat(65) }, /displayName: longer than 64/],
      [{ type: 'history.list', limit: 1.5 }, /limit: expected an integer/],
      [{ type: 'history.list', limit: Number.NaN }, /limit: expected a finite number/],
      [null, /expected an object/],
      [[1, 2], /expected an object/],
      ['lookup', /expected an object/],
    ];
    for (const [payload, why] of bad) {
      const r = commandSchema.parse(payload, 'command');
      expect(r.ok, JSON.stringify(payload)).toBe(false);
      if (!r.ok) expect(r.error).toMatch(why);
    }
  });

  it('never throws on random junk', () => {
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const junk = (d: number): unknown => {
      const k = Math.floor(rnd() * 7);
      if (d > 3 || k === 0) return [null, true, 1e308, -0, '', 'x'.repeat(2000)][Math.floor(rnd() * 6)];
      if (k === 1) return Array.from({ length: 3 }, () => junk(d + 1));
      const o: Record<string, unknown> = {};
      for (const key of ['type', 'extension', 'callId', 'on', 'forwarding', 'state'])
        if (rnd() < 0.5) o[key] = junk(d + 1);
      if (rnd() < 0.7) o.type = COMMAND_TYPES[Math.floor(rnd() * COMMAND_TYPES.length)];
      return o;
    };
    for (let i = 0; i < 1500; i++) {
      const v = junk(0);
      expect(() => commandSchema.parse(v)).not.toThrow();
      expect(() => eventSchema.parse(v)).not.toThrow();
      expect(() => parseClientMessage(JSON.stringify({ kind: 'command', id: i, command: v }))).not.toThrow();
    }
  });

  it('every command type has params and a result schema and names its issue', () => {
    for (const t of COMMAND_TYPES) {
      expect(COMMANDS[t].params.parse).toBeTypeOf('function');
      expect(COMMANDS[t].result.parse).toBeTypeOf('function');
      expect([4, 5, 6, 7]).toContain(COMMANDS[t].issue);
    }
  });
});

describe('replies and events', () => {
  it('checks a reply against the command it answers', () => {
    const lookup = replySchema('lookup');
    expect(lookup.parse({ ok: true, value: { extension: '102', reachable: true, contacts: [] } }).ok).toBe(
      true,
    );
    expect(lookup.parse({ ok: true, value: { extension: '102' } }).ok).toBe(false);
    expect(lookup.parse({ ok: false, error: 'wrong-code' }).ok).toBe(true);
    expect(lookup.parse({ ok: false, error: 'made-up' }).ok).toBe(false);
    expect(lookup.parse({ ok: 'yes' }).ok).toBe(false);
  });

  it('parses server frames for the pending command only', () => {
    const pending = new Map([[3, 'office.status' as const]]);
    const status = {
      enrolled: false,
      officeName: null,
      extension: null,
      displayName: null,
      nodeId: null,
      admin: false,
    };
    const ok = parseServerMessage(
      JSON.stringify({ kind: 'reply', id: 3, reply: { ok: true, value: status } }),
      (id) => pending.get(id),
    );
    expect(ok.ok).toBe(true);
    const stray = parseServerMessage(
      JSON.stringify({ kind: 'reply', id: 4, reply: { ok: true, value: status } }),
      (id) => pending.get(id),
    );
    expect(stray.ok).toBe(false);
    const ev = parseServerMessage(
      JSON.stringify({
        kind: 'event',
        event: { type: 'presence.changed', extension: '102', presence: { state: 'away' } },
      }),
      () => undefined,
    );
    expect(ev).toMatchObject({ ok: true, value: { kind: 'event', event: { extension: '102' } } });
    expect(
      parseServerMessage('{"kind":"event","event":{"type":"presence.changed"}}', () => undefined).ok,
    ).toBe(false);
  });
});

describe('UnavailableEngine', () => {
  it('answers not-available for missing handlers, lists capabilities, turns a throw into internal', async () => {
    const errors: string[] = [];
    const engine = new UnavailableEngine(
      {
        lookup: ({ extension }) => okReply<'lookup'>({ extension, reachable: false, contacts: [] }),
        'voicemail.list': () => {
          throw new Error('disk on fire');
        },
        'call.dial': () => errReply('busy'),
      },
      (msg) => errors.push(msg),
    );
    expect(await engine.command({ type: 'members.list' })).toMatchObject({
      ok: false,
      error: 'not-available',
    });
    expect(await engine.command({ type: 'lookup', extension: '5' })).toMatchObject({
      ok: true,
      value: { extension: '5' },
    });
    expect(await engine.command({ type: 'voicemail.list' })).toMatchObject({
      ok: false,
      error: 'internal',
      message: 'disk on fire',
    });
    expect(errors).toEqual(['engine command failed']);
    expect(await engine.command({ type: 'engine.capabilities' })).toEqual({
      ok: true,
      value: { commands: ['engine.capabilities', 'lookup', 'call.dial', 'voicemail.list'] },
    });
  });

  it('delivers events to every subscriber even when one throws; unsubscribe stops delivery', () => {
    const errors: string[] = [];
    const engine = new UnavailableEngine({}, (msg) => errors.push(msg));
    const got: string[] = [];
    engine.on(() => {
      throw new Error('bad handler');
    });
    const off = engine.on((e) => got.push(e.type));
    engine.emit({ type: 'log', level: 'info', message: 'a' });
    off();
    engine.emit({ type: 'log', level: 'info', message: 'b' });
    expect(got).toEqual(['log']);
    expect(errors).toEqual(['event handler failed', 'event handler failed']);
  });

  it('dispatchUntrusted validates before the engine sees anything', async () => {
    const seen: unknown[] = [];
    const engine = new UnavailableEngine({
      lookup: (c) => {
        seen.push(c);
        return errReply('not-found');
      },
    });
    const invalid: string[] = [];
    expect(
      await dispatchUntrusted(engine, { type: 'lookup', extension: '1 OR 1' }, (e) => invalid.push(e)),
    ).toMatchObject({
      ok: false,
      error: 'invalid',
    });
    expect(seen).toEqual([]);
    expect(invalid).toHaveLength(1);
    expect(
      await dispatchUntrusted(engine, { type: 'lookup', extension: '12' }, (e) => invalid.push(e)),
    ).toMatchObject({
      error: 'not-found',
    });
    expect(seen).toEqual([{ type: 'lookup', extension: '12' }]);
  });
});
