import { Logger } from '@aws-lambda-powertools/logger';

/**
 * Structured logger for the handlers. Log ids, sizes, counts and error names only: never document
 * text, prompts or model replies.
 */
export function createLogger(serviceName: string): Logger {
  return new Logger({ serviceName, logLevel: (process.env.POWERTOOLS_LOG_LEVEL as any) ?? 'INFO' });
}

/** The slice of the Powertools Logger the cores use, so tests and the local runner can pass their own. */
export interface LogPort {
  info(message: string, ...extra: any[]): void;
  warn(message: string, ...extra: any[]): void;
  error(message: string, ...extra: any[]): void;
}

/** A logger that drops everything (tests). */
export const SILENT_LOGGER: LogPort = { info: () => {}, warn: () => {}, error: () => {} };
