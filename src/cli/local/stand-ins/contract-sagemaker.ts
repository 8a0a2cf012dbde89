/**
 * A SageMaker endpoint for the local runner that answers any stage's own contract: InvokeEndpoint
 * replies with a JSON body that is a deterministic instance of the stage's output schema (the
 * endpoint's JSON body IS the SageMaker stage's output).
 */
import { ContractStandInOptions } from './contract-bedrock';
import { instanceOf } from './instance';
import { commandName, serviceError, unsupportedCommand } from '../adapters/errors';

export interface ContractSageMakerOptions extends ContractStandInOptions {
  /** Endpoints that exist; others answer ValidationError as SageMaker does. @default - any name */
  readonly endpointNames?: readonly string[];
}

/** One InvokeEndpoint call the stand-in answered. */
export interface InvokeCall {
  readonly endpointName: string;
  /** The request body, parsed. */
  readonly request: unknown;
  /** The body sent back. */
  readonly reply: unknown;
}

const SUPPORTED = ['InvokeEndpointCommand'];

/** `SageMakerRuntimeClient` stand-in: InvokeEndpoint answers a JSON instance of the stage's output schema. */
export class ContractSageMaker {
  /** The invocations so far, for assertions. */
  public readonly invocations: InvokeCall[] = [];

  constructor(private readonly options: ContractSageMakerOptions) {}

  public async send(command: unknown): Promise<any> {
    if (commandName(command) !== 'InvokeEndpointCommand') throw unsupportedCommand('ContractSageMaker', command, SUPPORTED);
    const input: any = (command as { input?: unknown }).input ?? {};
    const endpointName: string = input.EndpointName ?? '';
    if (this.options.endpointNames && !this.options.endpointNames.includes(endpointName)) {
      throw serviceError('ValidationError', 400, `Endpoint ${endpointName} not found.`);
    }
    const raw = typeof input.Body === 'string' ? input.Body
      : input.Body instanceof Uint8Array ? new TextDecoder().decode(input.Body) : '';
    let request: unknown;
    try {
      request = JSON.parse(raw);
    } catch {
      throw modelError(400, 'the request body is not JSON');
    }
    const reply = instanceOf(this.options.schema, {
      seed: this.options.seed(),
      pins: this.options.pins?.(),
      validate: this.options.validate,
    });
    this.invocations.push({ endpointName, request, reply });
    return {
      $metadata: { httpStatusCode: 200 },
      ContentType: 'application/json',
      InvokedProductionVariant: 'AllTraffic',
      Body: new TextEncoder().encode(JSON.stringify(reply)),
    };
  }
}

/** What SageMaker raises when the container answers with an error status. */
function modelError(status: number, message: string): Error {
  const err = serviceError('ModelError', 424, `Received client error (${status}) from primary with message "${message}"`) as Error & {
    OriginalStatusCode?: number;
  };
  err.OriginalStatusCode = status;
  return err;
}
