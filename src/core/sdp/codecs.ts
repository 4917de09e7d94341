// Audio codecs PeerPBX can send and receive over RTP/AVP, with their RFC 3551 static payload types.

export type CodecName = 'PCMU' | 'PCMA';

export interface Codec {
  name: CodecName;
  pt: number;
  rate: number;
}

export const PCMU: Codec = { name: 'PCMU', pt: 0, rate: 8000 };
export const PCMA: Codec = { name: 'PCMA', pt: 8, rate: 8000 };
export const SUPPORTED_CODECS: readonly Codec[] = [PCMU, PCMA];

/** Dynamic payload type we offer for RFC 4733 telephone-event; an answer keeps the offerer's number. */
export const DEFAULT_DTMF_PT = 101;

/** RFC 3551 table 4: static audio payload types that may appear without an a=rtpmap line. */
export const STATIC_PAYLOADS: Record<number, { name: string; rate: number }> = {
  0: { name: 'PCMU', rate: 8000 },
  3: { name: 'GSM', rate: 8000 },
  4: { name: 'G723', rate: 8000 },
  8: { name: 'PCMA', rate: 8000 },
  9: { name: 'G722', rate: 8000 },
  18: { name: 'G729', rate: 8000 },
};

export function codecByName(name: string): Codec | undefined {
  return SUPPORTED_CODECS.find((c) => c.name === name.toUpperCase());
}
