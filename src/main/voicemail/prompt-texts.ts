// The words of the voicemail's default prompts. assets/voicemail/generate-prompts.ts speaks them
// into assets/voicemail/NAME.wav; prompts.ts loads those files.
export const PROMPT_TEXTS = {
  'greeting-unavailable':
    'The person you are calling is not available. Please leave a message after the tone. Press pound when you are done.',
  'greeting-busy':
    'The person you are calling is on another call. Please leave a message after the tone. Press pound when you are done.',
  'mailbox-full': 'Sorry, this mailbox is full. No message can be left. Goodbye.',
  'no-mailbox': 'Sorry, this extension has no voicemail box. Goodbye.',
  'enter-pin': 'Please enter your voicemail PIN, followed by the pound key.',
  'wrong-pin': 'That PIN is not correct.',
  'no-pin': 'No voicemail PIN is set for this extension. Set one in the PeerPBX app. Goodbye.',
  'no-messages': 'You have no messages. Goodbye.',
  'message-menu': 'Press 7 to delete this message, 9 to keep it, or pound for the next message.',
  deleted: 'Message deleted.',
  'end-of-messages': 'End of messages. Goodbye.',
  'not-available':
    'Sorry, voicemail is not available on this phone. Please use the phone registered to your own computer. Goodbye.',
  'service-error': 'Sorry, voicemail cannot be reached right now. Please try again later. Goodbye.',
  goodbye: 'Goodbye.',
} as const;

export type PromptName = keyof typeof PROMPT_TEXTS;
