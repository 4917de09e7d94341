// The phone-system logic of a peer (issue 5), sans-IO. The coordinator wires PbxProxy (which
// carries the desk-phone Registrar) to a SipHost, answers its need-lookup events with overlay
// fetches walked through a PlanCursor, and feeds registrar publish/unpublish intents and the
// peer's own registration to a RegistrationPublisher.

export { parseDialPlan, parseUserSettings } from './dial-plan-config.ts';
export { PlanCursor, type Stage, toLookupResult } from './plan-cursor.ts';
export {
  type LookupResult,
  PbxProxy,
  type ProxyConfig,
  type ProxyEffect,
  type ProxyEvent,
  type ProxyTarget,
} from './proxy.ts';
export {
  type Binding,
  type DeskPhoneAccount,
  Registrar,
  type RegistrarConfig,
  type RegistrarEffect,
} from './registrar.ts';
export {
  decodeRegistration,
  encodeRegistration,
  liveContacts,
  REGISTRATION_LIFETIME_MS,
  type RegistrationContact,
  RegistrationPublisher,
  type RegistrationValue,
  refreshAt,
  registrationRemoval,
  registrationWrite,
} from './registration-record.ts';
export {
  type DialPlanConfig,
  type Fallback,
  fallbackFor,
  outcomeOfStatus,
  planCall,
  type RingGroupConfig,
  type RingStep,
  type RingTarget,
  type RoutePlan,
  type TrunkConfig,
} from './routing-plan.ts';
