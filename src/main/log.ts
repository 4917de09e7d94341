// Structured logging: one JSON object per line on stderr, with a level and a component.
// A tiny logger rather than pino: the peer logs little, and synchronous writes keep the last
// lines before a crash (which tests read after a kill -9).
import { writeSync } from 'node:fs';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

function envLevel(): LogLevel {
  const v = (process.env.PEERPBX_LOG ?? 'info').toLowerCase();
  return v in ORDER ? (v as LogLevel) : 'info';
}

let threshold = ORDER[envLevel()];
let sink: (line: string) => void = (line) => {
  try {
    writeSync(2, line);
  } catch {
    // stderr closed: nothing left to tell.
  }
};

export function setLogLevel(level: LogLevel): void {
  threshold = ORDER[level];
}

/** Redirects log lines (tests capture them). */
export function setLogSink(fn: (line: string) => void): void {
  sink = fn;
}

function serialize(fields: LogFields): LogFields {
  const out: LogFields = {};
  for (const [k, v] of Object.entries(fields)) {
    out[k] = v instanceof Error ? { message: v.message, stack: v.stack } : v;
  }
  return out;
}

export function createLogger(base: LogFields = {}): Logger {
  const emit = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (ORDER[level] < threshold) return;
    const rec = { t: new Date().toISOString(), level, msg, ...base, ...(fields ? serialize(fields) : {}) };
    sink(`${JSON.stringify(rec)}\n`);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger({ ...base, ...fields }),
  };
}
