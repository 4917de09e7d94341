// The overlay as the rest of src/main uses it: one OverlayRuntime per peer (see runtime.ts).
export { type ProbeResult, parseHostPort, probeNodeId } from './address-probe.ts';
export { PeerSigner, type SignOptions } from './peer-signer.ts';
export {
  defaultAdvertiseHost,
  type FetchResult,
  type HolderRole,
  type Holding,
  type Member,
  OverlayError,
  type OverlayErrorCode,
  OverlayRuntime,
  type OverlayRuntimeEvents,
  type OverlayRuntimeOptions,
  type ResourceRef,
  RUNTIME_OVERLAY_CONFIG,
  type StoreAck,
} from './runtime.ts';
