import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { lookup, resolveInput, TEXT_ALIAS } from '../../../runtime/stage-inputs';
import { runStage, StageContext } from '../../../runtime/stage-runner';
import { ErrorNames, PipelineError, SageMakerStageConfig, StageInvocation, StageView } from '../../../shared';

/** What the SageMaker stage core needs: the common stage context, its client, its config and the endpoint. */
export interface SageMakerStageDeps {
  readonly ctx: StageContext;
  readonly sagemaker: SageMakerRuntimeClient;
  readonly config: SageMakerStageConfig;
  readonly endpointName: string;
}

/**
 * Runs a SageMaker endpoint stage: builds a JSON request from stage-view paths (pointers read,
 * strings cut at `maxInputChars`), invokes the endpoint and returns its JSON reply as the output
 * (which `runStage` validates against the output contract).
 */
export async function runSageMakerStage(deps: SageMakerStageDeps, invocation: StageInvocation): Promise<{ [key: string]: unknown }> {
  const { ctx, endpointName } = deps;
  return runStage(ctx, invocation, async (view, trace) => {
    const request = await buildRequest(deps, view);
    // The audit trail keeps the request as sent and the endpoint's raw reply.
    trace.prompt = JSON.stringify(request);
    let body: Uint8Array | undefined;
    try {
      const call = () => deps.sagemaker.send(new InvokeEndpointCommand({
        EndpointName: endpointName,
        ContentType: 'application/json',
        Accept: 'application/json',
        Body: JSON.stringify(request),
      }));
      const out = ctx.capacity ? await ctx.capacity.run({ invocations: 1 }, call, undefined, invocation.enteredAt) : await call();
      body = out.Body;
    } catch (err: any) {
      if (err?.name === 'ModelError') {
        // The container answered with an error; its message may quote the request, so only the status is kept.
        throw new PipelineError(ErrorNames.MODEL_INVALID_OUTPUT,
          `stage ${ctx.stage}: endpoint ${endpointName} answered with status ${err.OriginalStatusCode ?? 'unknown'}`);
      }
      throw err;
    }
    trace.calls.push({ reply: Buffer.from(body ?? new Uint8Array()).toString('utf8') });
    const output = parseBody(ctx.stage, endpointName, body);
    ctx.logger.info('endpoint replied', { runId: invocation.runId, stage: ctx.stage, bytes: body?.length ?? 0 });
    return { output, modelId: endpointName };
  });
}

/** The request body: `{ [field]: resolved value }`; a field whose path has no value violates the input contract. */
async function buildRequest(deps: SageMakerStageDeps, view: StageView): Promise<{ [field: string]: unknown }> {
  const { ctx, config } = deps;
  const entries = Object.entries(config.request);
  for (const [field, p] of entries) {
    if (lookup(view, p) === undefined) {
      const why = p === TEXT_ALIAS ? ' (no earlier stage produced a text pointer)' : '';
      throw new PipelineError(ErrorNames.CONTRACT_INPUT_VIOLATION,
        `stage ${ctx.stage}: request field '${field}' reads '${p}', which has no value in the stage view${why}`);
    }
  }
  const values = await Promise.all(entries.map(([, p]) => resolveInput(ctx.s3, view, p, config.maxInputChars)));
  return Object.fromEntries(entries.map(([field], i) => [field, values[i]]));
}

/** The endpoint's reply as a JSON object; anything else is `Model.InvalidOutput` (the body is never quoted). */
function parseBody(stage: string, endpointName: string, body: Uint8Array | undefined): { [key: string]: unknown } {
  const text = body ? new TextDecoder().decode(body) : '';
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new PipelineError(ErrorNames.MODEL_INVALID_OUTPUT, `stage ${stage}: endpoint ${endpointName} did not answer with JSON`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new PipelineError(ErrorNames.MODEL_INVALID_OUTPUT, `stage ${stage}: endpoint ${endpointName} did not answer with a JSON object`);
  }
  return value as { [key: string]: unknown };
}
