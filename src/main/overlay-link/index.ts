// The overlay's link layer (src/main): mutual TLS 1.3 links between office peers, each carrying
// frames as a 4-byte big-endian length + opaque payload. Wire: after the TLS handshake the
// accepting side sends one link-control frame (ACCEPT, or REJECT with a reason, see
// link-control.ts); only then do overlay frames flow, in both directions.
export { DEFAULT_MAX_FRAME_BYTES, encodeFrame, FrameDecoder } from './frame-codec.ts';
export type { SendError, SendResult } from './framed-socket.ts';
export {
  type FrameEvent,
  type LinkDownEvent,
  type LinkInfo,
  LinkManager,
  type LinkManagerEvents,
  type LinkManagerOptions,
  type LinkUpEvent,
  type RefusedEvent,
} from './link-manager.ts';
export { identityFromCertificate, type PeerIdentity } from './peer-identity.ts';
