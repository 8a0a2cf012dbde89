/**
 * Structured logger of the handlers (ADR-0034): one JSON object per line on stdout, with the keys of
 * Powertools for AWS Lambda's logger (`level`, `message`, `timestamp`, `service`, `xray_trace_id`), so
 * log queries and metric filters written for those keep working. The handlers only ever log ids,
 * sizes, counts and error names: never document text, prompts or model replies.
 */

/** The slice of a logger the cores use, so tests and the local runner can pass their own. */
export interface LogPort {
  info(message: string, ...extra: any[]): void;
  warn(message: string, ...extra: any[]): void;
  error(message: string, ...extra: any[]): void;
}

/** A logger that drops everything (tests). */
export const SILENT_LOGGER: LogPort = { info: () => {}, warn: () => {}, error: () => {} };

/** Log levels by severity, as Lambda's application log level and Powertools name them. */
const LEVELS: { readonly [level: string]: number } = { TRACE: 6, DEBUG: 8, INFO: 12, WARN: 16, ERROR: 20, CRITICAL: 24, SILENT: 28 };

/** The keys the logger writes itself: an extra field of the same name never replaces them. */
const OWN_KEYS = new Set(['level', 'message', 'timestamp', 'service', 'xray_trace_id']);

/**
 * The least severe level that is written. Lambda's application log level (`AWS_LAMBDA_LOG_LEVEL`,
 * set when the function's log format is JSON and a level is chosen) wins, as it does for Powertools;
 * then `POWERTOOLS_LOG_LEVEL`, then `LOG_LEVEL`; else INFO. An unknown name counts as INFO.
 */
export function logLevelFromEnv(env: { [name: string]: string | undefined } = process.env): string {
  for (const name of ['AWS_LAMBDA_LOG_LEVEL', 'POWERTOOLS_LOG_LEVEL', 'LOG_LEVEL']) {
    const level = env[name]?.trim().toUpperCase();
    if (level && LEVELS[level] !== undefined) return level;
  }
  return 'INFO';
}

/** Where the lines go, the clock and the environment, injectable for tests. */
export interface JsonLoggerOptions {
  /** @default - writes to process.stdout */
  readonly write?: (line: string) => void;
  /** @default () => new Date() */
  readonly now?: () => Date;
  /** @default process.env */
  readonly env?: { [name: string]: string | undefined };
}

/** Writes each entry as one JSON line; `extra` objects add their fields (an Error adds its name only). */
export class JsonLogger implements LogPort {
  private readonly threshold: number;
  private readonly write: (line: string) => void;
  private readonly now: () => Date;
  private readonly env: { [name: string]: string | undefined };

  constructor(private readonly service: string, options: JsonLoggerOptions = {}) {
    this.env = options.env ?? process.env;
    this.threshold = LEVELS[logLevelFromEnv(this.env)];
    this.write = options.write ?? ((line) => process.stdout.write(line));
    this.now = options.now ?? (() => new Date());
  }

  public info(message: string, ...extra: any[]): void {
    this.log('INFO', message, extra);
  }

  public warn(message: string, ...extra: any[]): void {
    this.log('WARN', message, extra);
  }

  public error(message: string, ...extra: any[]): void {
    this.log('ERROR', message, extra);
  }

  private log(level: string, message: string, extra: readonly any[]): void {
    if (LEVELS[level] < this.threshold) return;
    const entry: { [key: string]: unknown } = {
      level,
      message,
      timestamp: this.now().toISOString(),
      service: this.service,
    };
    // Per invocation: Lambda sets it in the environment before each one.
    const trace = this.env._X_AMZN_TRACE_ID;
    if (trace) entry.xray_trace_id = trace.split(';')[0].replace(/^Root=/, '');
    for (const item of extra) {
      if (item instanceof Error) {
        entry.errorName = item.name;
      } else if (item !== null && typeof item === 'object') {
        for (const [key, value] of Object.entries(item)) if (!OWN_KEYS.has(key)) entry[key] = value;
      }
    }
    let line: string;
    try {
      line = JSON.stringify(entry, (_key, value) => (typeof value === 'bigint' ? value.toString() : value));
    } catch {
      // A field that cannot be written (a cycle): the entry without its extra fields, never a throw.
      line = JSON.stringify({ level, message, timestamp: entry.timestamp, service: this.service, logError: 'extra fields not serializable' });
    }
    this.write(line + '\n');
  }
}

/** The handlers' logger, named after the handler (`service`). */
export function createLogger(serviceName: string): LogPort {
  return new JsonLogger(serviceName);
}
