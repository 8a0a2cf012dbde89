/**
 * Errors shaped like AWS SDK v3 service exceptions, so the handler cores treat the local adapters'
 * failures exactly as they treat the services' (they read `name`, `$metadata.httpStatusCode`,
 * `$fault` and sometimes `$retryable`).
 */
export interface ServiceError extends Error {
  readonly $metadata: { readonly httpStatusCode: number };
  readonly $fault: 'client' | 'server';
}

/** An SDK-shaped service exception: `name` is the exception's name, `httpStatusCode` its HTTP status. */
export function serviceError(name: string, httpStatusCode: number, message: string): ServiceError {
  const err = new Error(message) as Error & { $metadata: { httpStatusCode: number }; $fault: 'client' | 'server' };
  err.name = name;
  err.$metadata = { httpStatusCode };
  err.$fault = httpStatusCode >= 500 ? 'server' : 'client';
  return err;
}

/** What an adapter's `send` receives: an SDK command (its class name identifies the operation). */
export interface SdkCommand {
  readonly input: unknown;
}

/** The name of a command's operation class (`GetObjectCommand`). */
export function commandName(command: unknown): string {
  const ctor = (command as { constructor?: { name?: unknown } } | null)?.constructor;
  return typeof ctor?.name === 'string' ? ctor.name : typeof command;
}

/** The error an adapter throws for a command it does not implement. */
export function unsupportedCommand(adapter: string, command: unknown, supported: readonly string[]): Error {
  const err = new Error(`${adapter} does not implement ${commandName(command)} (it implements ${supported.join(', ')})`);
  err.name = 'LocalAdapter.UnsupportedCommand';
  return err;
}
