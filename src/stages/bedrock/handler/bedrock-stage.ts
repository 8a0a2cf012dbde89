import {
  ApplyGuardrailCommand, BedrockRuntimeClient, ContentBlock, ConverseCommand, ConverseCommandInput, ConverseCommandOutput, Message,
  ServiceTierType, SystemContentBlock,
} from '@aws-sdk/client-bedrock-runtime';
import { parseReply } from './model-reply';
import {
  LayerFindings, LayerModes, LOCAL_LAYERS_ONLY, markUntrusted, newMarker, screenDeterministicInTurns, screeningResult, ScreeningResult,
  SPOTLIGHT_FIELD, spotlightInstruction, templateTags,
} from './screening';
import { roundUsd, StageTrace } from '../../../runtime/audit';
import { CapacityGrant } from '../../../runtime/capacity';
import { describeErrors, Validator } from '../../../runtime/contracts';
import { writeJson } from '../../../runtime/s3';
import { lookup, resolveInput, TEXT_ALIAS } from '../../../runtime/stage-inputs';
import { runStage, StageContext } from '../../../runtime/stage-runner';
import { BedrockPriceConfig, BedrockScreeningConfig, BedrockStageConfig, bedrockReservation, ErrorNames, Keys, PipelineError, PROMPT_ATTACK_GUARDRAIL_ENV, StageInvocation, StageView } from '../../../shared';
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
  /** Prompt tokens read from and written to the prompt cache, when Converse reports them. */
  readonly cacheReadInputTokens?: number;
  readonly cacheWriteInputTokens?: number;
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
  return runStage(ctx, invocation, async (view, trace) => {
    const modelValidator = ctx.validators.model;
    if (!modelValidator) {
      throw new Error(`stage ${ctx.stage}: the validators module has no 'model' validator`);
    }
    const values = await resolvePlaceholders(deps, view);
    // With a quota, capacity for the first call is taken now, before the screening's guardrail calls:
    // a document waiting for capacity costs no ApplyGuardrail call per try.
    const grant = ctx.capacity
      ? await ctx.capacity.acquire(bedrockCost(config, config.prompt.length + Object.values(values).reduce<number>((n, v) => n + (typeof v === 'string' ? v.length : JSON.stringify(v).length), 0) + SPOTLIGHT_ALLOWANCE), invocation.enteredAt)
      : undefined;
    const screen = screeningOf(config);
    const texts = Object.values(values).map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
    // The guardrail call goes out first, and the deterministic layers run while it is on its way, in
    // turns of the event loop, so that opening its connection and sending it are not held back.
    const guardrail = applyGuardrail(deps, screen, texts);
    // Marked handled at once: should the deterministic layers throw, its later rejection is no crash.
    guardrail.catch(() => undefined);
    const deterministic = await screenDeterministicInTurns(texts, {
      delimiterTags: screen.delimiterTags, outputFields: screen.outputFields, normalize: screen.modes.normalization !== 'off',
    });
    const findings: LayerFindings = { ...deterministic, guardrail: await guardrail };

    let prompt: string;
    let marker: string | undefined;
    if (screen.modes.spotlight === 'off') {
      prompt = renderTemplate(config.prompt, values);
    } else {
      marker = newMarker();
      const marked = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, typeof v === 'string' ? markUntrusted(v, marker!) : v]));
      prompt = `${renderTemplate(config.prompt, marked)}\n${spotlightInstruction(marker)}`;
    }

    // The audit trail keeps the prompt as rendered (the user turn) and every raw reply.
    trace.prompt = prompt;
    const reply = await converseForJson(deps, invocation.runId, prompt, modelValidator, marker !== undefined, trace, invocation.enteredAt, grant);
    if (marker !== undefined) findings.spotlight = reply.injectionSuspected === undefined ? ['not-reported'] : reply.injectionSuspected ? ['injection-suspected'] : [];
    const screening: ScreeningResult = screeningResult(findings, screen.modes, reply.injectionSuspected !== false);
    if (screening.patterns.length > 0) {
      ctx.logger.warn('prompt injection screening found something', { runId: invocation.runId, stage: ctx.stage, promptInjection: screening.promptInjection, patterns: screening.patterns });
    }

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

/** The config with the screening's prompt-attack guardrail, which the construct passes in the environment. */
export function withGuardrailFromEnv(config: BedrockStageConfig, env: { [name: string]: string | undefined } = process.env): BedrockStageConfig {
  const id = env[PROMPT_ATTACK_GUARDRAIL_ENV.id];
  if (!config.screening || !id) return config;
  return { ...config, screening: { ...config.screening, promptAttackGuardrail: { id, version: env[PROMPT_ATTACK_GUARDRAIL_ENV.version] || 'DRAFT' } } };
}

/** The stage's screening settings; a config without them screens with the deterministic layers only. */
interface Screening {
  readonly modes: LayerModes;
  readonly guardrail?: { readonly id: string; readonly version: string };
  readonly delimiterTags: string[];
  readonly outputFields: string[];
}

function screeningOf(config: BedrockStageConfig): Screening {
  const s: BedrockScreeningConfig | undefined = config.screening;
  if (!s) return { modes: LOCAL_LAYERS_ONLY, delimiterTags: templateTags(config.prompt), outputFields: [] };
  return {
    modes: { normalization: s.normalization, phrases: s.phrases, structure: s.structure, guardrail: s.guardrail, spotlight: s.spotlight },
    guardrail: s.promptAttackGuardrail,
    delimiterTags: s.delimiterTags,
    outputFields: s.outputFields,
  };
}

/** Characters per ApplyGuardrail call, and the overlap between calls so no sentence is cut in two unseen. */
export const GUARDRAIL_CHUNK = 10_000;
const GUARDRAIL_OVERLAP = 500;

/**
 * The guardrail layer: every untrusted text goes through ApplyGuardrail (source INPUT) with the
 * prompt-attack guardrail, in chunks; returns the names of the policies that intervened
 * (`prompt-attack`, ...). Errors propagate: the stage fails (and retries throttling) rather
 * than passing unscreened text.
 */
async function applyGuardrail(deps: BedrockStageDeps, screen: Screening, texts: readonly string[]): Promise<string[]> {
  if (screen.modes.guardrail === 'off') return [];
  if (!screen.guardrail) {
    throw new Error(`stage ${deps.ctx.stage}: the guardrail screening layer is on but the config names no prompt-attack guardrail`);
  }
  const found = new Set<string>();
  for (const text of texts) {
    for (let start = 0; start < Math.max(text.length, 1); start += GUARDRAIL_CHUNK - GUARDRAIL_OVERLAP) {
      const chunk = text.slice(start, start + GUARDRAIL_CHUNK);
      if (chunk.trim().length === 0) break;
      const out = await deps.bedrock.send(new ApplyGuardrailCommand({
        guardrailIdentifier: screen.guardrail.id,
        guardrailVersion: screen.guardrail.version,
        source: 'INPUT',
        content: [{ text: { text: chunk } }],
      }));
      if (out.action === 'GUARDRAIL_INTERVENED') {
        const names = interventions(out.assessments ?? []);
        (names.length > 0 ? names : ['intervened']).forEach((n) => found.add(n));
      }
      if (start + GUARDRAIL_CHUNK >= text.length) break;
    }
  }
  return [...found].sort();
}

/** Names of the guardrail policies that blocked: content filters by type (`prompt-attack`), denied topics, words, PII. */
function interventions(assessments: readonly any[]): string[] {
  const names: string[] = [];
  const blocked = (x: any) => x?.action === 'BLOCKED' || x?.detected === true;
  for (const a of assessments) {
    for (const f of a?.contentPolicy?.filters ?? []) if (blocked(f)) names.push(String(f.type).toLowerCase().replace(/_/g, '-'));
    if ((a?.topicPolicy?.topics ?? []).some(blocked)) names.push('denied-topic');
    if ([...(a?.wordPolicy?.customWords ?? []), ...(a?.wordPolicy?.managedWordLists ?? [])].some(blocked)) names.push('blocked-word');
    if ([...(a?.sensitiveInformationPolicy?.piiEntities ?? []), ...(a?.sensitiveInformationPolicy?.regexes ?? [])].some((x: any) => x?.action === 'BLOCKED')) names.push('sensitive-information');
  }
  return names;
}

interface ValidReply {
  readonly value: { [key: string]: unknown };
  /** The model's spotlight report: undefined when it was not asked, or did not answer with a boolean. */
  readonly injectionSuspected?: boolean;
  readonly usage: TokenUsage;
  readonly attempts: number;
  readonly stopReason?: string;
}

/** The outcome of one Converse call: usable, worth one repair attempt, or final (no repair can help). */
type Verdict =
  | { readonly kind: 'ok'; readonly value: { [key: string]: unknown }; readonly injectionSuspected?: boolean }
  | { readonly kind: 'repair'; readonly problem: string; readonly truncated: boolean }
  | { readonly kind: 'final'; readonly problem: string };

/** Calls Converse and returns a reply valid for the model contract, after at most one repair attempt. */
async function converseForJson(
  deps: BedrockStageDeps, runId: string, prompt: string, validator: Validator, spotlight: boolean, trace: StageTrace,
  enteredAt?: string, grant?: CapacityGrant,
): Promise<ValidReply> {
  const { ctx, config } = deps;
  const userTurn: Message = { role: 'user', content: [{ text: prompt }] };
  let usage: TokenUsage = { inputTokens: 0, outputTokens: 0 };

  const first = await converse(deps, [userTurn], enteredAt, grant);
  usage = addUsage(usage, first);
  const firstText = replyText(first);
  traceCall(trace, first, firstText, config.price);
  const firstVerdict = judge(first, firstText, validator, config.maxTokens, spotlight);
  ctx.logger.info('model replied', { runId, stage: ctx.stage, attempt: 1, stopReason: first.stopReason, verdict: firstVerdict.kind, ...usageOf(first) });
  if (firstVerdict.kind === 'ok') return { value: firstVerdict.value, injectionSuspected: firstVerdict.injectionSuspected, usage, attempts: 1, stopReason: first.stopReason };
  if (firstVerdict.kind === 'final') {
    await keepInvalidReplies(deps, runId, [firstText], usage);
    throw invalidOutput(ctx.stage, firstVerdict.problem);
  }

  const second = await converse(deps, repairConversation(userTurn, firstText, firstVerdict.problem, firstVerdict.truncated), enteredAt);
  usage = addUsage(usage, second);
  const secondText = replyText(second);
  traceCall(trace, second, secondText, config.price);
  const secondVerdict = judge(second, secondText, validator, config.maxTokens, spotlight);
  ctx.logger.info('model replied', { runId, stage: ctx.stage, attempt: 2, stopReason: second.stopReason, verdict: secondVerdict.kind, ...usageOf(second) });
  if (secondVerdict.kind === 'ok') return { value: secondVerdict.value, injectionSuspected: secondVerdict.injectionSuspected, usage, attempts: 2, stopReason: second.stopReason };

  await keepInvalidReplies(deps, runId, [firstText, secondText], usage);
  throw invalidOutput(ctx.stage, secondVerdict.kind === 'final' ? secondVerdict.problem
    : `${secondVerdict.problem} (after one repair attempt)`);
}

/**
 * One Converse call. With a quota, it runs under a grant of one request and the tokens Bedrock
 * reserves (the prompt's estimate plus maxTokens), taken here unless given, and gives back what the
 * reply did not use.
 */
function converse(deps: BedrockStageDeps, messages: Message[], enteredAt?: string, grant?: CapacityGrant): Promise<ConverseCommandOutput> {
  const { config, ctx } = deps;
  const call = () => send(deps, messages);
  if (!ctx.capacity) return call();
  const used = (out: ConverseCommandOutput): { [dim: string]: number } => {
    const tokens = (out.usage?.inputTokens ?? 0) + (out.usage?.outputTokens ?? 0);
    return tokens > 0 ? { requests: 1, tokens } : { requests: 1 };
  };
  if (grant) return ctx.capacity.complete(grant, call, used);
  const chars = messages.reduce((n, m) => n + (m.content ?? []).reduce((k, b) => k + (b.text?.length ?? 0), 0), 0);
  return ctx.capacity.run(bedrockCost(config, chars), call, used, enteredAt);
}

/** Characters the spotlighting adds to the prompt (markers and instruction), for the token estimate. */
const SPOTLIGHT_ALLOWANCE = 600;

/** What a call costs the model's quota: one request, and the tokens Bedrock reserves for it. */
function bedrockCost(config: BedrockStageConfig, promptChars: number): { requests: number; tokens: number } {
  return { requests: 1, tokens: bedrockReservation(promptChars + (config.systemPrompt?.length ?? 0), config.maxTokens) };
}

function send(deps: BedrockStageDeps, messages: Message[]): Promise<ConverseCommandOutput> {
  return deps.bedrock.send(new ConverseCommand(converseRequest(deps.config, messages)));
}

/**
 * The Converse request of one call: the system prompt (with a cache point after it when prompt
 * caching is on: it is the static part of every call), the guardrail, the service tier and the
 * JSON-schema structured output setting, each only when configured.
 */
export function converseRequest(config: BedrockStageConfig, messages: Message[]): ConverseCommandInput {
  const system: SystemContentBlock[] | undefined = config.systemPrompt
    ? [{ text: config.systemPrompt }, ...(config.promptCache ? [{ cachePoint: { type: 'default' as const } }] : [])]
    : undefined;
  return {
    modelId: config.modelId,
    ...(system ? { system } : {}),
    messages,
    inferenceConfig: { maxTokens: config.maxTokens, temperature: config.temperature },
    ...(config.guardrail ? {
      guardrailConfig: { guardrailIdentifier: config.guardrail.id, guardrailVersion: config.guardrail.version },
    } : {}),
    ...(config.serviceTier ? { serviceTier: { type: config.serviceTier as ServiceTierType } } : {}),
    ...(config.structuredOutput ? {
      outputConfig: {
        textFormat: {
          type: 'json_schema' as const,
          structure: { jsonSchema: { name: config.structuredOutput.name, schema: config.structuredOutput.schema } },
        },
      },
    } : {}),
  };
}

/** The cost of one call in USD at the stage's list prices (cache tokens at their own prices, else the input price). */
export function callCost(price: BedrockPriceConfig, usage: TokenUsage): number {
  const per = (tokens: number | undefined, per1k: number) => ((tokens ?? 0) / 1000) * per1k;
  return per(usage.inputTokens, price.inputPer1k)
    + per(usage.outputTokens, price.outputPer1k)
    + per(usage.cacheReadInputTokens, price.cacheReadPer1k ?? price.inputPer1k)
    + per(usage.cacheWriteInputTokens, price.cacheWritePer1k ?? price.inputPer1k);
}

/** The text content blocks of the reply, joined. */
function replyText(out: ConverseCommandOutput): string {
  const blocks: ContentBlock[] = out.output?.message?.content ?? [];
  return blocks.map((b) => b.text).filter((t): t is string => typeof t === 'string').join('');
}

function judge(out: ConverseCommandOutput, text: string, validator: Validator, maxTokens: number, spotlight: boolean): Verdict {
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
  // The spotlight report is the stage's field, not the contract's: taken out before validation.
  const { [SPOTLIGHT_FIELD]: reported, ...value } = parsed.value;
  const reply = spotlight ? value : parsed.value;
  if (!validator(reply)) {
    return { kind: 'repair', problem: `the reply violates its schema: ${describeErrors(validator)}`, truncated: false };
  }
  return { kind: 'ok', value: reply, injectionSuspected: spotlight && typeof reported === 'boolean' ? reported : undefined };
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

/** Adds one call to the stage's audit trace: the raw reply, its tokens and the model's latency. */
function traceCall(trace: StageTrace, out: ConverseCommandOutput, text: string, price?: BedrockPriceConfig): void {
  const usage = usageOf(out);
  if (price) trace.priceSource = price.source;
  trace.calls.push({
    reply: text,
    ...(out.stopReason ? { stopReason: out.stopReason } : {}),
    ...usage,
    ...(typeof out.metrics?.latencyMs === 'number' ? { latencyMs: out.metrics.latencyMs } : {}),
    ...(price ? { costUsd: roundUsd(callCost(price, usage)) } : {}),
  });
}

function usageOf(out: ConverseCommandOutput): TokenUsage {
  const u = out.usage;
  return {
    inputTokens: u?.inputTokens ?? 0,
    outputTokens: u?.outputTokens ?? 0,
    ...(typeof u?.cacheReadInputTokens === 'number' ? { cacheReadInputTokens: u.cacheReadInputTokens } : {}),
    ...(typeof u?.cacheWriteInputTokens === 'number' ? { cacheWriteInputTokens: u.cacheWriteInputTokens } : {}),
  };
}

function addUsage(total: TokenUsage, out: ConverseCommandOutput): TokenUsage {
  const u = usageOf(out);
  const plus = (a: number | undefined, b: number | undefined) => (a === undefined && b === undefined ? {} : { v: (a ?? 0) + (b ?? 0) });
  const read = plus(total.cacheReadInputTokens, u.cacheReadInputTokens);
  const write = plus(total.cacheWriteInputTokens, u.cacheWriteInputTokens);
  return {
    inputTokens: total.inputTokens + u.inputTokens,
    outputTokens: total.outputTokens + u.outputTokens,
    ...('v' in read ? { cacheReadInputTokens: read.v } : {}),
    ...('v' in write ? { cacheWriteInputTokens: write.v } : {}),
  };
}
