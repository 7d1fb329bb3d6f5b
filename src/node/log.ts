/**
 * The node's log: one JSON object per line (time, level, msg, fields), the shape pino writes,
 * so that the output can be read by people with `jq` and by tests line by line.
 */
import type { Logger, LogFields } from '../net/index.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export const logLevels: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

export function jsonLinesLogger(write: (line: string) => void, level: LogLevel = 'info', base: LogFields = {}): Logger {
  const threshold = logLevels.indexOf(level);
  const at = (name: LogLevel) => (fields: LogFields, message: string) => {
    if (logLevels.indexOf(name) < threshold) return;
    write(JSON.stringify({ time: new Date().toISOString(), level: name, msg: message, ...base, ...fields }) + '\n');
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
