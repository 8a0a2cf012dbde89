/**
 * Lambda for the local runner: Invoke runs a local handler in process and answers as Lambda does
 * (`StatusCode` 200 and the JSON payload; an error the function throws becomes
 * `FunctionError: 'Unhandled'` with `{ errorType, errorMessage }` as the payload).
 */
import { commandName, serviceError, unsupportedCommand } from './errors';

/** A function's handler: gets the parsed event, returns the (JSON-serializable) result. */
export type LocalHandler = (event: any) => Promise<any>;

/** Finds the handler of a function name or ARN; undefined when there is no such function. */
export type LocalHandlerResolver = (functionName: string) => LocalHandler | undefined;

const SUPPORTED = ['InvokeCommand'];

export class LocalLambda {
  /** The invocations so far (function name and parsed payload), for assertions. */
  public readonly invocations: Array<{ readonly functionName: string; readonly event: unknown }> = [];

  constructor(private readonly resolve: LocalHandlerResolver) {}

  public async send(command: any): Promise<any> {
    if (commandName(command) !== 'InvokeCommand') throw unsupportedCommand('LocalLambda', command, SUPPORTED);
    const input = command.input ?? {};
    const functionName: string = input.FunctionName ?? '';
    const handler = this.resolve(functionName);
    if (!handler) {
      throw serviceError('ResourceNotFoundException', 404, `Function not found: ${functionName}`);
    }
    const raw = input.Payload === undefined ? ''
      : typeof input.Payload === 'string' ? input.Payload : new TextDecoder().decode(input.Payload);
    let event: unknown = {};
    if (raw.length > 0) {
      try {
        event = JSON.parse(raw);
      } catch {
        throw serviceError('InvalidRequestContentException', 400, 'Could not parse request body into json');
      }
    }
    this.invocations.push({ functionName, event });
    const encode = (value: unknown) => new TextEncoder().encode(value === undefined ? 'null' : JSON.stringify(value));
    if (input.InvocationType === 'Event') {
      // Asynchronous invocation: queued and answered at once with 202; errors are not reported back.
      void handler(event).catch(() => undefined);
      return { $metadata: { httpStatusCode: 202 }, StatusCode: 202 };
    }
    try {
      const result = await handler(event);
      return { $metadata: { httpStatusCode: 200 }, StatusCode: 200, ExecutedVersion: '$LATEST', Payload: encode(result) };
    } catch (err: any) {
      const errorType = typeof err?.name === 'string' && err.name.length > 0 ? err.name : 'Error';
      const errorMessage = typeof err?.message === 'string' ? err.message : String(err);
      return {
        $metadata: { httpStatusCode: 200 },
        StatusCode: 200,
        ExecutedVersion: '$LATEST',
        FunctionError: 'Unhandled',
        Payload: encode({ errorType, errorMessage, trace: Array.isArray(err?.trace) ? err.trace : [] }),
      };
    }
  }
}
