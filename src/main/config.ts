// The peer's run-time configuration and the validation of user-typed values (CLI flags today,
// settings in the app later). Validators return a value or throw ConfigError with one clear line.
import { existsSync, statSync } from 'node:fs';
import { isIP } from 'node:net';

export interface PeerConfig {
  dataDir: string;
  bind: string;
  sipPort: number;
  overlayPort: number;
  /** The local UI (HTTP + WebSocket on 127.0.0.1); undefined: no UI. */
  httpPort?: number;
  peers: HostPort[];
}

export interface HostPort {
  host: string;
  port: number;
}

export const DEFAULTS = {
  bind: '0.0.0.0',
  sipPort: 5060,
  overlayPort: 7070,
  /** Suggested UI port (`npm start`); `run` serves no UI without --http-port. */
  httpPort: 8080,
} as const;

export class ConfigError extends Error {}

/** A port number; `allowZero` lets tests ask for any free port. */
export function parsePort(value: string, what: string, allowZero = true): number {
  if (!/^\d{1,5}$/.test(value.trim())) throw new ConfigError(`${what}: "${value}" is not a port number`);
  const n = Number(value);
  if (n > 65535 || (!allowZero && n === 0)) throw new ConfigError(`${what}: ${n} is out of range (1-65535)`);
  return n;
}

const HOSTNAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

export function parseHost(value: string, what: string): string {
  const v = value.trim();
  if (isIP(v) || HOSTNAME.test(v)) return v;
  throw new ConfigError(`${what}: "${value}" is not an IP address or host name`);
}

/** HOST:PORT or [IPv6]:PORT. */
export function parseHostPort(value: string, what: string): HostPort {
  const v = value.trim();
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(v) ?? /^([^:]+):(\d+)$/.exec(v);
  if (!m) throw new ConfigError(`${what}: "${value}" is not HOST:PORT`);
  const host = m[1];
  if (v.startsWith('[') && isIP(host) !== 6)
    throw new ConfigError(`${what}: "${host}" is not an IPv6 address`);
  return { host: v.startsWith('[') ? host : parseHost(host, what), port: parsePort(m[2], what, false) };
}

/** An existing .wav file (its content is checked when a call plays it). */
export function parseWavFile(value: string, what: string): string {
  if (!/\.wav$/i.test(value)) throw new ConfigError(`${what}: "${value}" is not a .wav file`);
  if (!existsSync(value) || !statSync(value).isFile()) throw new ConfigError(`${what}: no file "${value}"`);
  return value;
}
