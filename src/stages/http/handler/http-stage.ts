import { runStage, StageContext } from '../../../runtime/stage-runner';
import { ErrorNames, HttpStageConfig, PipelineError, StageInvocation } from '../../../shared';

/** What the HTTP stage core needs: the common stage context and its config. */
export interface HttpStageDeps {
  readonly ctx: StageContext;
  readonly config: HttpStageConfig;
}

/**
 * Checks the answer of an HTTP stage's call: the HTTP task put `{ statusCode, body }` at
 * `results.<stage>`; the body (JSON, parsed when the API sent it as text) is the stage's output,
 * which `runStage` checks against the output contract and records. A body that is not JSON is a
 * `Contract.OutputViolation` (messages name the status and the stage, never the body).
 */
export async function runHttpStage(deps: HttpStageDeps, invocation: StageInvocation): Promise<{ [key: string]: unknown }> {
  const { ctx, config } = deps;
  return runStage(ctx, invocation, async (view) => {
    const answer = view.results[ctx.stage] as { statusCode?: unknown; body?: unknown } | undefined;
    if (!answer || typeof answer !== 'object' || !('body' in answer)) {
      throw new PipelineError(ErrorNames.CONTRACT_INPUT_VIOLATION, `stage ${ctx.stage}: no answer of the call at results.${ctx.stage}; the stage's call state must run first`);
    }
    let body = answer.body;
    if (typeof body === 'string') {
      try {
        body = JSON.parse(body);
      } catch {
        throw new PipelineError(ErrorNames.CONTRACT_OUTPUT_VIOLATION, `stage ${ctx.stage}: ${config.method} ${config.url} answered ${String(answer.statusCode)} with a body that is not JSON`);
      }
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new PipelineError(ErrorNames.CONTRACT_OUTPUT_VIOLATION, `stage ${ctx.stage}: ${config.method} ${config.url} answered ${String(answer.statusCode)} with a body that is not a JSON object`);
    }
    ctx.logger.info('answer checked', { runId: invocation.runId, stage: ctx.stage, statusCode: answer.statusCode });
    return { output: body as { [key: string]: unknown }, modelId: `${config.method} ${config.url}` };
  });
}
