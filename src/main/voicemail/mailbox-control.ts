// The running peer's answers to the `peerpbx voicemail ...` control requests. Files are named by
// absolute path and read/written here, in the peer: a message (up to ~3 MB of WAV) does not fit a
// control line, and the socket only admits this user's processes anyway.
import { readFile, writeFile } from 'node:fs/promises';
import type { ControlRequest } from '../control/protocol.ts';
import type { Mailbox, MailboxMessage } from './mailbox.ts';

export type MailboxControlRequest = Extract<
  ControlRequest,
  {
    op:
      | 'voicemail-list'
      | 'voicemail-export'
      | 'voicemail-heard'
      | 'voicemail-delete'
      | 'greeting-set'
      | 'pin-set';
  }
>;

export async function mailboxControl(mailbox: Mailbox | null, req: MailboxControlRequest): Promise<unknown> {
  if (!mailbox) throw new Error('voicemail is not running on this peer');
  switch (req.op) {
    case 'voicemail-list':
      return (await mailbox.refresh()) satisfies MailboxMessage[];
    case 'voicemail-export': {
      const audio = await mailbox.audio(req.id);
      try {
        await writeFile(req.file, audio);
      } catch (err) {
        throw new Error(`cannot write ${req.file}: ${(err as Error).message}`);
      }
      return { id: req.id, file: req.file, bytes: audio.length };
    }
    case 'voicemail-heard':
      await mailbox.markHeard(req.id);
      return { id: req.id, heard: true };
    case 'voicemail-delete':
      await mailbox.delete(req.id);
      return { id: req.id, deleted: true };
    case 'greeting-set': {
      let wav: Uint8Array | null = null;
      if (req.file !== null) {
        try {
          wav = new Uint8Array(await readFile(req.file));
        } catch (err) {
          throw new Error(`cannot read ${req.file}: ${(err as Error).message}`);
        }
      }
      await mailbox.setGreeting(req.kind, wav);
      return { kind: req.kind, bytes: wav?.length ?? 0 };
    }
    case 'pin-set':
      await mailbox.setPin(req.pin);
      return { ok: true };
  }
}
