// Overlay messages (RFC 6940 sections 6-9, simplified for an office LAN). Peer-to-peer messages go
// one hop; requests ('req') are routed recursively towards `key` with a TTL and a via list, and the
// responsible peer answers the origin directly ('ans'), which every peer of one office can reach.
import type { Address } from '../net.ts';
import type { KindName, NodeId, ResourceId, StoredValue, StoreOutcome } from '../records/types.ts';

export const FRAME_VERSION = 1;

/** A peer as others learn it: incarnation numbers let a peer refute a false death (SWIM). */
export interface PeerInfo {
  id: NodeId;
  address: Address;
  inc: number;
}

export type MemberStatus = 'alive' | 'dead' | 'left';

/** A membership change spread by piggybacking on other messages. */
export interface GossipEvent {
  peer: PeerInfo;
  status: MemberStatus;
}

export interface WatchRegistration {
  resourceId: ResourceId;
  watchId: number;
  watcher: PeerInfo;
  expires: number;
}

export interface ValueMeta {
  kind: KindName;
  key: string;
  storageTime: number;
  lifetime: number;
  exists: boolean;
  size: number;
}

export type RequestOp =
  | { op: 'join' }
  | { op: 'lookup' }
  | { op: 'store'; values: StoredValue[] }
  | { op: 'fetch'; resourceId: ResourceId; kind?: KindName; key?: string; anyReplica: boolean }
  | { op: 'stat'; resourceId: ResourceId; kind?: KindName; key?: string }
  | { op: 'watch'; resourceId: ResourceId; watchId: number; lifetime: number };

export type AnswerBody =
  | { op: 'join'; view: PeerInfo[]; values: StoredValue[]; watches: WatchRegistration[] }
  | { op: 'lookup' }
  | { op: 'store'; outcomes: StoreOutcome[]; copies: number }
  | { op: 'fetch'; values: StoredValue[] }
  | { op: 'stat'; meta: ValueMeta[] }
  | { op: 'watch'; expires: number }
  | { op: 'error'; code: 'not-ready' | 'refused'; reason: string };

/** Keepalive / probe / hello. `nb` is the sender's neighbour set (CHORD-RELOAD Update content). */
export interface PingMessage {
  t: 'ping';
  from: PeerInfo;
  g: GossipEvent[];
  nb: PeerInfo[];
  wantPong: boolean;
}
export interface PongMessage {
  t: 'pong';
  from: PeerInfo;
  g: GossipEvent[];
}
export interface RequestMessage {
  t: 'req';
  from: PeerInfo;
  tx: number;
  origin: PeerInfo;
  key: NodeId;
  ttl: number;
  via: NodeId[];
  body: RequestOp;
}
export interface AnswerMessage {
  t: 'ans';
  from: PeerInfo;
  tx: number;
  hops: number;
  body: AnswerBody;
}
/** Responsible peer -> its successors: copies of values it accepted, and watch registrations. */
export interface ReplicateMessage {
  t: 'replicate';
  from: PeerInfo;
  tx: number;
  values: StoredValue[];
  watches: WatchRegistration[];
}
export interface ReplicateAckMessage {
  t: 'replicate-ack';
  from: PeerInfo;
  tx: number;
}
/** Anti-entropy: the digest of (from, to] as the responsible peer holds it. */
export interface DigestMessage {
  t: 'digest';
  from: PeerInfo;
  range: [NodeId, NodeId];
  count: number;
  hash: string;
  /** The fewest confirmed copies of any record of the range (replicas show it in their status). */
  copies?: number;
}
/** Anti-entropy: the replica holds exactly what the digest describes (it counts as a copy). */
export interface DigestAckMessage {
  t: 'digest-ack';
  from: PeerInfo;
  range: [NodeId, NodeId];
  hash: string;
}
/** Anti-entropy repair: the sender's values of the range (or those the other side lacks). */
export interface SyncMessage {
  t: 'sync';
  from: PeerInfo;
  range: [NodeId, NodeId];
  values: StoredValue[];
  wantReply: boolean;
}
export interface LeaveMessage {
  t: 'leave';
  from: PeerInfo;
  values: StoredValue[];
}
export interface NotifyMessage {
  t: 'notify';
  from: PeerInfo;
  watchId: number;
  resourceId: ResourceId;
  values: StoredValue[];
}

/** Membership anti-entropy: one hash per ring bucket of the sender's live view. */
export interface ViewDigestMessage {
  t: 'view-digest';
  from: PeerInfo;
  buckets: number[];
}
/** The sender's members (live and gone) in the buckets whose hashes differed; merged like gossip. */
export interface ViewMessage {
  t: 'view';
  from: PeerInfo;
  buckets: number[];
  members: GossipEvent[];
  wantReply: boolean;
}

export type OverlayMessage =
  | PingMessage
  | PongMessage
  | RequestMessage
  | AnswerMessage
  | ReplicateMessage
  | ReplicateAckMessage
  | DigestMessage
  | DigestAckMessage
  | SyncMessage
  | LeaveMessage
  | NotifyMessage
  | ViewDigestMessage
  | ViewMessage;

export type MessageType = OverlayMessage['t'];
