import { BedrockRuntimeClient, ContentBlock, ConverseCommand, ConverseCommandOutput, Message } from '@aws-sdk/client-bedrock-runtime';
import { parseReply } from './model-reply';
import { screenForInjection } from './screening';
import { describeErrors, Validator } from '../../../runtime/contracts';
import { writeJson } from '../../../runtime/s3';
import { lookup, resolveInput, TEXT_ALIAS } from '../../../runtime/stage-inputs';
import { runStage, StageContext } from '../../../runtime/stage-runner';
import { BedrockStageConfig, ErrorNames, Keys, PipelineError, StageInvocation, StageView } from '../../../shared';
import { renderTemplate, templateVariables } from '../../../shared/paths';

/** What the Bedrock stage core needs: the common stage context, its Bedrock client and its config. */
export interface BedrockStageDeps {
  readonly ctx: StageContext;
  readonly bedrock: BedrockRuntimeClient;
  readonly config: BedrockStageConfig;
}

/** Token counts of all Converse calls of one stage execution (a repair attempt included). */
export interface TokenUsage {
  readonly inputTokens: number;
  readonly outputTokens: number;
}

/**
 * Runs a Bedrock stage: resolves the prompt's placeholders, screens the resolved text for prompt
 * injection, calls Converse, extracts and validates the JSON reply (one repair attempt), writes the
 * full reply and the offloaded fields to the work bucket and returns the reply with pointers.
 *
 * The output is `{ ...reply, response, screening, usage }`; the handler's own fields always win
 * over fields of the same name in the reply, so a model can never forge `screening`.
 */
export async function runBedrockStage(deps: BedrockStageDeps, invocation: StageInvocation): Promise<{ [key: string]: unknown }> {
  const { ctx, config } = deps;
  return runStage(ctx, invocation, async (view) => {
    const modelValidator = ctx.validators.model;
    if (!modelValidator) {
      throw new Error(`stage ${ctx.stage}: the validators module has no 'model' validator`);
    }
    const values = await resolvePlaceholders(deps, view);
    const prompt = renderTemplate(config.prompt, values);
    const screening = screenForInjection(Object.values(values).map((v) => (typeof v === 'string' ? v : JSON.stringify(v))));
    if (screening.promptInjection) {
      ctx.logger.warn('prompt injection patterns found', { runId: invocation.runId, stage: ctx.stage, patterns: screening.patterns });
    }

    const reply = await converseForJson(deps, invocation.runId, prompt, modelValidator);

    const work = (name: string) => Keys.stageWork(ctx.stage, invocation.runId, name);
    const response = await writeJson(ctx.s3, ctx.workBucket, work('response.json'), {
      modelId: config.modelId,
      promptVersion: config.promptVersion,
      stopReason: reply.stopReason,
      attempts: reply.attempts,
      usage: reply.usage,
      reply: reply.value,
    });
    const fields: { [key: string]: unknown } = { ...reply.value };
    for (const field of config.offloadFields) {
      if (fields[field] === undefined) continue;
      fields[field] = await writeJson(ctx.s3, ctx.workBucket, work(`${field}.json`), fields[field]);
    }
    const output: { [key: string]: unknown } = {
      ...fields,
      response,
      screening,
      usage: reply.usage,
    };
    return { output, modelId: config.modelId, promptVersion: config.promptVersion };
  });
}

/** Resolves every placeholder of the prompt; a placeholder without a value violates the input contract. */
async function resolvePlaceholders(deps: BedrockStageDeps, view: StageView): Promise<{ [path: string]: unknown }> {
  const { ctx, config } = deps;
  const paths = templateVariables(config.prompt);
  for (const p of paths) {
    if (lookup(view, p) === undefined) {
      const why = p === TEXT_ALIAS ? ' (no earlier stage produced a text pointer)' : '';
      throw new PipelineError(ErrorNames.CONTRACT_INPUT_VIOLATION,
        `stage ${ctx.stage}: the prompt placeholder {{${p}}} has no value in the stage view${why}`);
    }
  }
  const resolved = await Promise.all(paths.map((p) => resolveInput(ctx.s3, view, p, config.maxInputChars)));
  return Object.fromEntries(paths.map((p, i) => [p, resolved[i]]));
}

interface ValidReply {
  readonly value: { [key: string]: unknown };
  readonly usage: TokenUsage;
  readonly attempts: number;
  readonly stopReason?: string;
}

/** The outcome of one Converse call: usable, worth one repair attempt, or final (no repair can help). */
type Verdict =
  | { readonly kind: 'ok'; readonly value: { [key: string]: unknown } }
  | { readonly kind: 'repair'; readonly problem: string; readonly truncated: boolean }
  | { readonly kind: 'final'; readonly problem: string };

/** Calls Converse and returns a reply valid for the model contract, after at most one repair attempt. */
async function converseForJson(deps: BedrockStageDeps, runId: string, prompt: string, validator: Validator): Promise<ValidReply> {
  const { ctx, config } = deps;
  const userTurn: Message = { role: 'user', content: [{ text: prompt }] };
  let usage: TokenUsage = { inputTokens: 0, outputTokens: 0 };

  const first = await converse(deps, [userTurn]);
  usage = addUsage(usage, first);
  const firstText = replyText(first);
  const firstVerdict = judge(first, firstText, validator, config.maxTokens);
  ctx.logger.info('model replied', { runId, stage: ctx.stage, attempt: 1, stopReason: first.stopReason, verdict: firstVerdict.kind, ...usageOf(first) });
  if (firstVerdict.kind === 'ok') return { value: firstVerdict.value, usage, attempts: 1, stopReason: first.stopReason };
  if (firstVerdict.kind === 'final') {
    await keepInvalidReplies(deps, runId, [firstText], usage);
    throw invalidOutput(ctx.stage, firstVerdict.problem);
  }

  const second = await converse(deps, repairConversation(userTurn, firstText, firstVerdict.problem, firstVerdict.truncated));
  usage = addUsage(usage, second);
  const secondText = replyText(second);
  const secondVerdict = judge(second, secondText, validator, config.maxTokens);
  ctx.logger.info('model replied', { runId, stage: ctx.stage, attempt: 2, stopReason: second.stopReason, verdict: secondVerdict.kind, ...usageOf(second) });
  if (secondVerdict.kind === 'ok') return { value: secondVerdict.value, usage, attempts: 2, stopReason: second.stopReason };

  await keepInvalidReplies(deps, runId, [firstText, secondText], usage);
  throw invalidOutput(ctx.stage, secondVerdict.kind === 'final' ? secondVerdict.problem
    : `${secondVerdict.problem} (after one repair attempt)`);
}

function converse(deps: BedrockStageDeps, messages: Message[]): Promise<ConverseCommandOutput> {
  const { config } = deps;
  return deps.bedrock.send(new ConverseCommand({
    modelId: config.modelId,
    ...(config.systemPrompt ? { system: [{ text: config.systemPrompt }] } : {}),
    messages,
    inferenceConfig: { maxTokens: config.maxTokens, temperature: config.temperature },
    ...(config.guardrail ? {
      guardrailConfig: { guardrailIdentifier: config.guardrail.id, guardrailVersion: config.guardrail.version },
    } : {}),
  }));
}

/** The text content blocks of the reply, joined. */
function replyText(out: ConverseCommandOutput): string {
  const blocks: ContentBlock[] = out.output?.message?.content ?? [];
  return blocks.map((b) => b.text).filter((t): t is string => typeof t === 'string').join('');
}

function judge(out: ConverseCommandOutput, text: string, validator: Validator, maxTokens: number): Verdict {
  switch (out.stopReason) {
    case 'guardrail_intervened':
      return { kind: 'final', problem: 'a guardrail intervened (stopReason guardrail_intervened)' };
    case 'content_filtered':
      return { kind: 'final', problem: 'the model\'s content filter stopped the reply (stopReason content_filtered)' };
    case 'model_context_window_exceeded':
      return { kind: 'final', problem: 'the prompt exceeds the model\'s context window (stopReason model_context_window_exceeded): lower maxInputChars' };
    case 'max_tokens':
      return { kind: 'repair', problem: `the reply was cut off at the ${maxTokens}-token limit (stopReason max_tokens)`, truncated: true };
    default:
      break;
  }
  const parsed = parseReply(text);
  if (!parsed.ok) return { kind: 'repair', problem: parsed.problem, truncated: false };
  if (!validator(parsed.value)) {
    return { kind: 'repair', problem: `the reply violates its schema: ${describeErrors(validator)}`, truncated: false };
  }
  return { kind: 'ok', value: parsed.value };
}

/** The conversation of the repair attempt: the prompt, the model's reply, and what was wrong with it. */
function repairConversation(userTurn: Message, reply: string, problem: string, truncated: boolean): Message[] {
  const ask = `Your previous reply could not be used: ${problem}. `
    + 'Reply again with only the JSON object that satisfies the required schema: no prose, no code fences.'
    + (truncated ? ' Keep it short enough to fit in the token limit.' : '');
  if (reply.trim().length === 0) {
    // Converse rejects blank content blocks: ask again within the one user turn.
    return [{ role: 'user', content: [...(userTurn.content ?? []), { text: ask }] }];
  }
  return [userTurn, { role: 'assistant', content: [{ text: reply }] }, { role: 'user', content: [{ text: ask }] }];
}

/** Keeps the unusable replies in the work bucket for reviewers (never in logs or error messages). */
async function keepInvalidReplies(deps: BedrockStageDeps, runId: string, replies: string[], usage: TokenUsage): Promise<void> {
  const { ctx, config } = deps;
  try {
    await writeJson(ctx.s3, ctx.workBucket, Keys.stageWork(ctx.stage, runId, 'invalid-response.json'), {
      modelId: config.modelId, promptVersion: config.promptVersion, usage, replies,
    });
  } catch (err: any) {
    ctx.logger.warn('invalid replies not kept', { runId, stage: ctx.stage, errorName: err?.name });
  }
}

function invalidOutput(stage: string, problem: string): PipelineError {
  return new PipelineError(ErrorNames.MODEL_INVALID_OUTPUT, `stage ${stage}: the model's reply is not usable: ${problem}`);
}

function usageOf(out: ConverseCommandOutput): TokenUsage {
  return { inputTokens: out.usage?.inputTokens ?? 0, outputTokens: out.usage?.outputTokens ?? 0 };
}

function addUsage(total: TokenUsage, out: ConverseCommandOutput): TokenUsage {
  const u = usageOf(out);
  return { inputTokens: total.inputTokens + u.inputTokens, outputTokens: total.outputTokens + u.outputTokens };
}
