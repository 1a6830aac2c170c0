// One JSON line per decision (pino). Secret-bearing fields are redacted at the logger, so a
// careless `log.info({ secret })` cannot leak a credential.
import { type DestinationStream, type Logger, pino } from 'pino';

export type { Logger };

const REDACT = [
  'password',
  'token',
  'auth',
  'authorization',
  '*.password',
  '*.token',
  '*.auth',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'data',
  '*.data',
  '*.dockerconfigjson',
];

export function createLogger(
  name: string,
  level = process.env['LOG_LEVEL'] ?? 'info',
  destination?: DestinationStream,
): Logger {
  const options = {
    name,
    level,
    base: { function: name },
    redact: { paths: REDACT, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  return destination ? pino(options, destination) : pino(options);
}
