export { type PhoneEvent, type PhoneEventListener, SoftPhone, type SoftPhoneOptions } from './soft-phone.ts';
