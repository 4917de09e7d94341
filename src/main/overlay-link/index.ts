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
