/**
 * A Bedrock model for the local runner that answers any stage's own contract: Converse replies with
 * a deterministic instance of the stage's model-reply schema (see `instanceOf`), in Converse's
 * shape, so the real Bedrock core parses, validates (and, when the reply is cut at `maxTokens`,
 * repairs) it exactly as it does a real model's reply.
 */
import { instanceOf, InstanceValidator } from './instance';
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

  constructor(private readonly options: ContractStandInOptions) {}

  public async send(command: unknown): Promise<any> {
    if (commandName(command) !== 'ConverseCommand') throw unsupportedCommand('ContractBedrock', command, SUPPORTED);
    const input: any = (command as { input?: unknown }).input ?? {};
    const messages: any[] = Array.isArray(input.messages) ? input.messages : [];
    const prompt = messages.filter((m) => m?.role === 'user').map((m) => blocksText(m.content)).join('\n\n');
    const system = blocksText(input.system);
    const allText = messages.map((m) => blocksText(m?.content)).join('\n\n');

    const value = instanceOf(this.options.schema, {
      seed: this.options.seed(),
      pins: this.options.pins?.(),
      validate: this.options.validate,
    });
    let reply = JSON.stringify(value);
    const inputTokens = estimateTokens(allText) + estimateTokens(system);
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
    });
    return {
      $metadata: { httpStatusCode: 200 },
      output: { message: { role: 'assistant', content: [{ text: reply }] } },
      stopReason,
      usage: { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens },
      // A modelled latency (never the wall clock): time to first token plus a steady output rate.
      metrics: { latencyMs: 200 + Math.round(inputTokens / 50) + outputTokens * 10 },
    };
  }
}
