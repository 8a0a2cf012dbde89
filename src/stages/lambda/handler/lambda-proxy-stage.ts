import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { runStage, StageContext } from '../../../runtime/stage-runner';
import { ErrorNames, LambdaStageConfig, PipelineError, StageInvocation } from '../../../shared';

/** What the Lambda proxy core needs: the common stage context, its client, its config and the user's function. */
export interface LambdaProxyStageDeps {
  readonly ctx: StageContext;
  readonly lambda: LambdaClient;
  readonly config: LambdaStageConfig;
  /** Name or ARN of the user's function. */
  readonly functionName: string;
}

/** What the user's function receives. */
export interface UserFunctionEvent {
  readonly document: unknown;
  readonly results: { [stage: string]: unknown };
  readonly runId: string;
}

/** Longest part of a user function's error message kept in the error we raise. */
const MAX_ERROR_MESSAGE_CHARS = 200;
/** Longest error name passed on (Step Functions error names are short strings). */
const MAX_ERROR_NAME_CHARS = 128;

/**
 * Runs a user's Lambda function as a stage, behind the same contracts and audit as the built-in
 * stages: invokes it synchronously with `{ document, results, runId }` and returns its JSON reply.
 * An error the function raises reaches the state machine under the function's own error name
 * (`errorType`), so a user's `Document.NoText` is caught like the built-in one.
 */
export async function runLambdaProxyStage(deps: LambdaProxyStageDeps, invocation: StageInvocation): Promise<{ [key: string]: unknown }> {
  const { ctx, functionName } = deps;
  return runStage(ctx, invocation, async (view) => {
    const event: UserFunctionEvent = { document: view.document, results: view.results, runId: invocation.runId };
    const out = await deps.lambda.send(new InvokeCommand({ FunctionName: functionName, Payload: JSON.stringify(event) }));
    const text = out.Payload ? new TextDecoder().decode(out.Payload) : '';
    if (out.FunctionError) {
      throw userError(ctx.stage, text);
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new PipelineError(ErrorNames.CONTRACT_OUTPUT_VIOLATION, `stage ${ctx.stage}: the function's reply is not JSON`);
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new PipelineError(ErrorNames.CONTRACT_OUTPUT_VIOLATION, `stage ${ctx.stage}: the function's reply is not a JSON object`);
    }
    ctx.logger.info('function replied', { runId: invocation.runId, stage: ctx.stage, bytes: text.length });
    return { output: value as { [key: string]: unknown } };
  });
}

/** The error the user's function raised, under its own name, with at most the start of its message. */
function userError(stage: string, payload: string): Error {
  let errorType: unknown;
  let errorMessage: unknown;
  try {
    ({ errorType, errorMessage } = JSON.parse(payload) ?? {});
  } catch {
    // Not the runtime's error shape: keep nothing of it.
  }
  const name = typeof errorType === 'string' && errorType.trim().length > 0
    ? errorType.trim().slice(0, MAX_ERROR_NAME_CHARS)
    : 'Lambda.Unknown';
  const detail = typeof errorMessage === 'string' ? `: ${errorMessage.slice(0, MAX_ERROR_MESSAGE_CHARS)}` : '';
  return new PipelineError(name, `stage ${stage}: the function failed with ${name}${detail}`);
}
