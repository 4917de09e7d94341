// The two event packages a gateway peer serves its desk phones: dialog (BLF keys, RFC 4235) and
// message-summary (the message-waiting lamp, RFC 3842). Each renders the app's state for one
// resource into its body; both default to one-hour subscriptions (RFC 4235 4.3, RFC 3842 3.4).

import { type BlfDialog, buildDialogInfo, DIALOG_INFO_CONTENT_TYPE } from './dialog-info.ts';
import { buildMessageSummary, MESSAGE_SUMMARY_CONTENT_TYPE } from './message-summary.ts';
import type { PackageSpec } from './notifier.ts';

/** State of a dialog-package resource: the extension's current BLF dialog (null: idle). */
export type DialogPackageState = BlfDialog;

/** State of a message-summary resource: counts of the mailbox, never its contents. */
export interface MailboxCounts {
  account: string;
  newMessages: number;
  oldMessages: number;
}

export const dialogPackage: PackageSpec = {
  name: 'dialog',
  contentType: DIALOG_INFO_CONTENT_TYPE,
  defaultExpires: 3600,
  render(state, { entity, version }) {
    const d = (state ?? null) as DialogPackageState;
    return buildDialogInfo({
      version,
      state: 'full',
      entity,
      dialogs: d ? [{ id: d.id, state: d.state, direction: 'recipient' }] : [],
    });
  },
};

export const messageSummaryPackage: PackageSpec = {
  name: 'message-summary',
  contentType: MESSAGE_SUMMARY_CONTENT_TYPE,
  defaultExpires: 3600,
  render(state, { entity }) {
    const c = state as MailboxCounts | undefined;
    return buildMessageSummary({
      waiting: (c?.newMessages ?? 0) > 0,
      account: c?.account ?? entity,
      classes: { 'voice-message': { newMessages: c?.newMessages ?? 0, oldMessages: c?.oldMessages ?? 0 } },
    });
  },
};
