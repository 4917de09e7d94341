export { logPhoneEvents, phoneEventFields } from './log-events.ts';
export { type PhoneEvent, type PhoneEventListener, SoftPhone, type SoftPhoneOptions } from './soft-phone.ts';
