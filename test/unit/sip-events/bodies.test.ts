import { describe, expect, it } from 'vitest';
import {
  acceptsContentType,
  buildDialogInfo,
  buildMessageSummary,
  nextBlfDialog,
  parseDialogInfo,
  parseEventHeader,
  parseExpires,
  parseMessageSummary,
  parseSubscriptionState,
} from '../../../src/core/sip/events/index.ts';
import { parseXml } from '../../../src/core/sip/events/xml.ts';

describe('dialog-info+xml (RFC 4235)', () => {
  it('round-trips a document and escapes what it must', () => {
    const doc = {
      version: 7,
      state: 'full' as const,
      entity: 'sip:10"2@office&co',
      dialogs: [{ id: 'a<b', state: 'early' as const, direction: 'recipient' as const, callId: 'c@h' }],
    };
    const xml = buildDialogInfo(doc);
    expect(xml).toContain('entity="sip:10&quot;2@office&amp;co"');
    expect(xml).toContain('<state>early</state>');
    expect(parseDialogInfo(xml)).toEqual({ ok: true, value: doc });
  });

  it('reads the RFC 4235 example with namespaces and extra elements', () => {
    const xml = `<?xml version="1.0"?>
      <dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="1" state="full" entity="sip:alice@example.com">
        <!-- a comment -->
        <dialog id="as7d900as8" call-id="a84b4c76e66710" local-tag="1928301774" direction="initiator">
          <state event="replaced">confirmed</state>
          <local><identity display="Alice">sip:alice@example.com</identity></local>
        </dialog>
      </dialog-info>`;
    const r = parseDialogInfo(xml);
    expect(r.ok && r.value.dialogs).toEqual([
      {
        id: 'as7d900as8',
        state: 'confirmed',
        direction: 'initiator',
        callId: 'a84b4c76e66710',
        localTag: '1928301774',
      },
    ]);
  });

  it('returns errors, never throws, on hostile bodies', () => {
    const bomb = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><dialog-info version="1" state="full" entity="x">&lol2;</dialog-info>`;
    const deep = `<dialog-info version="1" state="full" entity="x">${'<a>'.repeat(100)}${'</a>'.repeat(100)}</dialog-info>`;
    const wide = `<dialog-info version="1" state="full" entity="x">${'<a/>'.repeat(5000)}</dialog-info>`;
    const hostile = [
      '',
      'not xml',
      bomb,
      deep,
      wide,
      'x'.repeat(100_000),
      '<dialog-info version="1" state="full" entity="x">',
      '<dialog-info version="1" state="full" entity="x"></dialog>',
      '<dialog-info version="-1" state="full" entity="x"/>',
      '<dialog-info version="1" state="maybe" entity="x"/>',
      '<dialog-info version="1" state="full"/>',
      '<dialog-info version="1" state="full" entity="x"><dialog id="1"><state>ringing</state></dialog></dialog-info>',
      '<dialog-info version="1" state="full" entity="x"><dialog><state>early</state></dialog></dialog-info>',
      '<dialog-info version="1" state="full" entity="&unknown;"/>',
      '<dialog-info version="1" state=full entity="x"/>',
      '<dialog-info version="1" state="full" entity="x"/><second/>',
      '<dialog-info version="1" state="full" entity="x"><![CDATA[x]]></dialog-info>',
      '<?php evil() ?><dialog-info version="1" state="full" entity="x"/>',
      '<presence/>',
      '<dialog-info version="1" state="full" entity="x">&#xD800;</dialog-info>',
      '\u0000<\u0000>',
    ];
    for (const h of hostile) {
      const r = parseDialogInfo(h);
      expect(r.ok, h.slice(0, 60)).toBe(false);
    }
  });

  it('xml reader decodes character references and strips prefixes', () => {
    const r = parseXml('<d:a xmlns:d="u" d:b="&#65;&#x42;">t&lt;</d:a>');
    expect(r).toEqual({ ok: true, root: { name: 'a', attrs: { b: 'AB' }, children: [], text: 't<' } });
  });
});

describe('BLF dialogs from presence', () => {
  it('one call is one dialog id: early -> confirmed -> terminated once -> idle', () => {
    let n = 0;
    const id = () => `d${++n}`;
    const ringing = nextBlfDialog(null, 'ringing', id);
    expect(ringing).toEqual({ id: 'd1', state: 'early' });
    expect(nextBlfDialog(ringing, 'ringing', id)).toBe(ringing);
    const talking = nextBlfDialog(ringing, 'on-call', id);
    expect(talking).toEqual({ id: 'd1', state: 'confirmed' });
    const over = nextBlfDialog(talking, 'available', id);
    expect(over).toEqual({ id: 'd1', state: 'terminated' });
    expect(nextBlfDialog(over, 'dnd', id)).toBeNull();
    expect(nextBlfDialog(over, 'on-call', id)).toEqual({ id: 'd2', state: 'confirmed' });
    expect(nextBlfDialog(null, 'offline', id)).toBeNull();
  });
});

describe('simple-message-summary (RFC 3842)', () => {
  it('builds and parses the RFC example shape', () => {
    const body = buildMessageSummary({
      waiting: true,
      account: 'sip:alice@vmail.example.com',
      classes: { 'voice-message': { newMessages: 2, oldMessages: 8, newUrgent: 0, oldUrgent: 2 } },
    });
    expect(body).toBe(
      'Messages-Waiting: yes\r\nMessage-Account: sip:alice@vmail.example.com\r\nVoice-Message: 2/8 (0/2)\r\n',
    );
    expect(parseMessageSummary(body)).toEqual({
      ok: true,
      value: {
        waiting: true,
        account: 'sip:alice@vmail.example.com',
        classes: { 'voice-message': { newMessages: 2, oldMessages: 8, newUrgent: 0, oldUrgent: 2 } },
      },
    });
    // Message headers after a blank line are not part of the summary.
    expect(parseMessageSummary('Messages-Waiting: no\r\n\r\nTo: x\r\nbad line').ok).toBe(true);
  });

  it('refuses hostile bodies with an error', () => {
    const hostile = [
      '',
      'Messages-Waiting: maybe',
      'Voice-Message: 1/2',
      'Messages-Waiting: yes\r\nVoice-Message: -1/2',
      'Messages-Waiting: yes\r\nVoice-Message: 99999999999/2',
      'Messages-Waiting: yes\r\nVoice-Message: 1/2 (x/y)',
      'Messages-Waiting: yes\r\nno colon here',
      `Messages-Waiting: yes\r\n${'X: y\r\n'.repeat(100)}`,
      'Messages-Waiting: yes'.padEnd(20_000, ' '),
    ];
    for (const h of hostile) expect(parseMessageSummary(h).ok, h.slice(0, 50)).toBe(false);
  });

  it('never writes a header line break from the account', () => {
    const body = buildMessageSummary({ waiting: false, account: 'sip:a\r\nEvil: 1', classes: {} });
    expect(body.split('\r\n').filter(Boolean)).toHaveLength(2);
  });
});

describe('event headers', () => {
  it('parses Event, Expires, Subscription-State and Accept', () => {
    expect(parseEventHeader('Dialog ; id=42;foo')).toEqual({
      ok: true,
      value: { package: 'dialog', id: '42', params: { id: '42', foo: null } },
    });
    expect(parseEventHeader('message-summary').ok).toBe(true);
    for (const bad of [undefined, '', ';id=1', 'dia log', 'dialog;=x', 'x'.repeat(2000)])
      expect(parseEventHeader(bad).ok, String(bad)).toBe(false);
    expect(parseExpires(undefined, 3600)).toEqual({ ok: true, value: 3600 });
    expect(parseExpires(' 60 ', 1)).toEqual({ ok: true, value: 60 });
    for (const bad of ['-1', '1.5', 'abc', '12345678901']) expect(parseExpires(bad, 1).ok).toBe(false);
    expect(parseSubscriptionState('active;expires=60')).toEqual({
      ok: true,
      value: { state: 'active', expires: 60, reason: null },
    });
    expect(parseSubscriptionState('terminated;reason=noresource')).toMatchObject({
      ok: true,
      value: { state: 'terminated', reason: 'noresource' },
    });
    expect(parseSubscriptionState('act ive').ok).toBe(false);
    expect(acceptsContentType(undefined, 'application/dialog-info+xml')).toBe(true);
    expect(acceptsContentType(['application/*;q=1'], 'application/dialog-info+xml')).toBe(true);
    expect(
      acceptsContentType(['text/plain, application/dialog-info+xml'], 'application/dialog-info+xml'),
    ).toBe(true);
    expect(acceptsContentType(['application/pidf+xml'], 'application/dialog-info+xml')).toBe(false);
  });
});
