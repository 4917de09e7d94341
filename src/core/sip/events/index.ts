// SIP-specific event notification (RFC 6665) with the dialog (RFC 4235) and message-summary
// (RFC 3842) packages: sans-IO notifier, body builders and parsers.
export * from './dialog-info.ts';
export * from './event-header.ts';
export * from './local-calls.ts';
export * from './message-summary.ts';
export * from './notifier.ts';
export * from './packages.ts';
