/**
 * A Bedrock model for the local runner that answers any stage's own contract: Converse replies with
 * a deterministic instance of the stage's model-reply schema (see `instanceOf`), in Converse's
 * shape, so the real Bedrock core parses, validates (and, when the reply is cut at `maxTokens`,
 * repairs) it exactly as it does a real model's reply.
 *
 * With JSON-schema structured output (`outputConfig.textFormat`), the reply is an instance of the
 * schema sent in the request instead (as a real model constrained to it), so a stage's structured
 * output path runs locally too. With a `cachePoint` after the system prompt, the first call with a
 * given prefix reports it as `cacheWriteInputTokens` and every later one as `cacheReadInputTokens`.
 */
import { instanceOf, InstanceValidator } from './instance';
import { SPOTLIGHT_FIELD } from '../../../stages/bedrock/handler/screening';
import { commandName, unsupportedCommand } from '../adapters/errors';

export interface ContractStandInOptions {
  /** The JSON Schema the reply must satisfy (a Bedrock stage's model schema, a SageMaker stage's output schema). */
  readonly schema: object;
  /** The stage's own validator for that schema (from its `validators.js`). */
  readonly validate?: InstanceValidator;
  /** The seed of the current call: the runner answers `sha256(document bytes) + ':' + stageId`. */
  readonly seed: () => string;
  /** Values to fix in the reply for the current call (dotted paths or JSON pointers), if any. */
  readonly pins?: () => { readonly [path: string]: unknown } | undefined;
}

/** One Converse call the stand-in answered. */
export interface ConverseCall {
  readonly modelId: string;
  /** The text of the user turns, joined (the prompt, and the repair request on a second attempt). */
  readonly prompt: string;
  readonly system?: string;
  readonly maxTokens?: number;
  /** The reply text sent back (cut when it exceeded `maxTokens`). */
  readonly reply: string;
  readonly stopReason: string;
  /** True when the call asked for JSON-schema structured output. */
  readonly structured?: boolean;
}

const SUPPORTED = ['ConverseCommand'];
/** Characters per token of the estimate (English prose averages about four). */
const CHARS_PER_TOKEN = 4;

/** Estimated tokens of a text (about four characters per token). */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / CHARS_PER_TOKEN);
}

function blocksText(blocks: unknown): string {
  const list: any[] = Array.isArray(blocks) ? blocks : [];
  return list.map((b) => (typeof b?.text === 'string' ? b.text : '')).filter((t) => t.length > 0).join('\n\n');
}

/** `BedrockRuntimeClient` stand-in: Converse answers a JSON instance of the stage's model schema. */
export class ContractBedrock {
  /** The Converse calls so far, for assertions. */
  public readonly calls: ConverseCall[] = [];
  /** The cached prompt prefixes (the text before a cache point) of this stand-in's model. */
  private readonly cached = new Set<string>();

  constructor(private readonly options: ContractStandInOptions) {}

  public async send(command: unknown): Promise<any> {
    if (commandName(command) !== 'ConverseCommand') throw unsupportedCommand('ContractBedrock', command, SUPPORTED);
    const input: any = (command as { input?: unknown }).input ?? {};
    const messages: any[] = Array.isArray(input.messages) ? input.messages : [];
    const prompt = messages.filter((m) => m?.role === 'user').map((m) => blocksText(m.content)).join('\n\n');
    const system = blocksText(input.system);
    const allText = messages.map((m) => blocksText(m?.content)).join('\n\n');
    const structured = structuredSchema(input);

    const value = instanceOf(structured ?? this.options.schema, {
      seed: this.options.seed(),
      pins: this.options.pins?.(),
      // The stage's validator checks its model schema; a structured-output schema is checked by instanceOf itself.
      validate: structured ? undefined : this.options.validate,
    });
    let reply = JSON.stringify(value);
    const systemBlocks: any[] = Array.isArray(input.system) ? input.system : [];
    const cut = systemBlocks.findIndex((b) => b?.cachePoint);
    const prefix = cut > 0 ? blocksText(systemBlocks.slice(0, cut)) : '';
    let cacheRead = 0;
    let cacheWrite = 0;
    if (prefix) {
      if (this.cached.has(prefix)) {cacheRead = estimateTokens(prefix);} else {
        cacheWrite = estimateTokens(prefix);
        this.cached.add(prefix);
      }
    }
    // As Converse counts them: inputTokens are the prompt tokens not read from or written to the cache.
    const inputTokens = estimateTokens(allText) + estimateTokens(system) - cacheRead - cacheWrite;
    let outputTokens = estimateTokens(reply);
    let stopReason = 'end_turn';
    const maxTokens = input.inferenceConfig?.maxTokens;
    if (typeof maxTokens === 'number' && maxTokens > 0 && outputTokens > maxTokens) {
      reply = reply.slice(0, maxTokens * CHARS_PER_TOKEN);
      outputTokens = maxTokens;
      stopReason = 'max_tokens';
    }
    this.calls.push({
      modelId: input.modelId ?? '',
      prompt,
      ...(system ? { system } : {}),
      ...(typeof maxTokens === 'number' ? { maxTokens } : {}),
      reply,
      stopReason,
      ...(structured ? { structured: true } : {}),
    });
    return {
      $metadata: { httpStatusCode: 200 },
      output: { message: { role: 'assistant', content: [{ text: reply }] } },
      stopReason,
      usage: {
        inputTokens,
        outputTokens,
        totalTokens: inputTokens + outputTokens + cacheRead + cacheWrite,
        ...(prefix ? { cacheReadInputTokens: cacheRead, cacheWriteInputTokens: cacheWrite } : {}),
      },
      // A modelled latency (never the wall clock): time to first token plus a steady output rate.
      metrics: { latencyMs: 200 + Math.round(inputTokens / 50) + outputTokens * 10 },
    };
  }
}

/**
 * The JSON schema of a Converse request's structured output setting, if it has one, without the
 * spotlighting field: the local guardrail stand-in plays the model's part of spotlighting (it adds
 * `injectionSuspected` from the marked text), never a random draw.
 */
function structuredSchema(input: any): object | undefined {
  const format = input?.outputConfig?.textFormat;
  if (format?.type !== 'json_schema') return undefined;
  const text = format?.structure?.jsonSchema?.schema;
  if (typeof text !== 'string') throw new Error('ContractBedrock: outputConfig.textFormat.structure.jsonSchema.schema must be JSON text');
  const schema = JSON.parse(text);
  if (schema?.properties && SPOTLIGHT_FIELD in schema.properties) {
    const { [SPOTLIGHT_FIELD]: _spotlight, ...properties } = schema.properties;
    schema.properties = properties;
    if (Array.isArray(schema.required)) schema.required = schema.required.filter((r: string) => r !== SPOTLIGHT_FIELD);
  }
  return schema;
}
