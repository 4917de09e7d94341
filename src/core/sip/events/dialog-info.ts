// The dialog event package's body, application/dialog-info+xml (RFC 4235 section 4): what BLF keys
// of desk phones read. The notifier sends full state every time ("state=full"), with a version
// that counts the documents sent on one subscription from 0.

import { child, escapeXml, parseXml } from './xml.ts';

export const DIALOG_INFO_CONTENT_TYPE = 'application/dialog-info+xml';

export type DialogState = 'trying' | 'proceeding' | 'early' | 'confirmed' | 'terminated';
const DIALOG_STATES: ReadonlySet<string> = new Set([
  'trying',
  'proceeding',
  'early',
  'confirmed',
  'terminated',
]);

export interface DialogInfoDialog {
  id: string;
  state: DialogState;
  direction?: 'initiator' | 'recipient';
  callId?: string;
  localTag?: string;
  remoteTag?: string;
}

export interface DialogInfoDocument {
  version: number;
  state: 'full' | 'partial';
  entity: string;
  dialogs: DialogInfoDialog[];
}

export function buildDialogInfo(doc: DialogInfoDocument): string {
  const lines = [
    '<?xml version="1.0"?>',
    `<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="${doc.version}" state="${doc.state}" entity="${escapeXml(doc.entity)}">`,
  ];
  for (const d of doc.dialogs) {
    let attrs = `id="${escapeXml(d.id)}"`;
    if (d.callId) attrs += ` call-id="${escapeXml(d.callId)}"`;
    if (d.localTag) attrs += ` local-tag="${escapeXml(d.localTag)}"`;
    if (d.remoteTag) attrs += ` remote-tag="${escapeXml(d.remoteTag)}"`;
    if (d.direction) attrs += ` direction="${d.direction}"`;
    lines.push(`  <dialog ${attrs}>`, `    <state>${d.state}</state>`, '  </dialog>');
  }
  lines.push('</dialog-info>', '');
  return lines.join('\r\n');
}

export type DialogInfoResult = { ok: true; value: DialogInfoDocument } | { ok: false; error: string };

/** Subscriber side (and tests): reads a dialog-info document; unknown elements are ignored. */
export function parseDialogInfo(xml: string): DialogInfoResult {
  const parsed = parseXml(xml);
  if (!parsed.ok) return parsed;
  const root = parsed.root;
  if (root.name !== 'dialog-info') return { ok: false, error: `root element is ${root.name}` };
  const version = root.attrs.version;
  if (version === undefined || !/^[0-9]{1,10}$/.test(version))
    return { ok: false, error: 'dialog-info version missing or not a number' };
  const state = root.attrs.state;
  if (state !== 'full' && state !== 'partial')
    return { ok: false, error: 'dialog-info state not full/partial' };
  const entity = root.attrs.entity;
  if (!entity) return { ok: false, error: 'dialog-info entity missing' };
  const dialogs: DialogInfoDialog[] = [];
  for (const el of root.children) {
    if (el.name !== 'dialog') continue;
    const id = el.attrs.id;
    if (!id) return { ok: false, error: 'dialog without id' };
    const st = child(el, 'state')?.text.trim() ?? '';
    if (!DIALOG_STATES.has(st)) return { ok: false, error: `dialog ${id}: bad state "${st.slice(0, 20)}"` };
    const dir = el.attrs.direction;
    dialogs.push({
      id,
      state: st as DialogState,
      ...(dir === 'initiator' || dir === 'recipient' ? { direction: dir } : {}),
      ...(el.attrs['call-id'] ? { callId: el.attrs['call-id'] } : {}),
      ...(el.attrs['local-tag'] ? { localTag: el.attrs['local-tag'] } : {}),
      ...(el.attrs['remote-tag'] ? { remoteTag: el.attrs['remote-tag'] } : {}),
    });
  }
  return { ok: true, value: { version: Number(version), state, entity, dialogs } };
}

/** The BLF view of one extension: the dialog its key shows (null: idle, no dialog). */
export type BlfDialog = { id: string; state: 'early' | 'confirmed' | 'terminated' } | null;

/**
 * The next BLF dialog for a presence state. A call is one dialog id from ringing (early) through
 * answered (confirmed) to terminated; a terminated dialog is reported once, then the key is idle.
 */
export function nextBlfDialog(prev: BlfDialog, presence: string, newId: () => string): BlfDialog {
  const live = prev !== null && prev.state !== 'terminated';
  if (presence === 'ringing') return live && prev.state === 'early' ? prev : { id: newId(), state: 'early' };
  if (presence === 'on-call')
    return live ? { id: prev.id, state: 'confirmed' } : { id: newId(), state: 'confirmed' };
  return live ? { id: prev.id, state: 'terminated' } : null;
}
