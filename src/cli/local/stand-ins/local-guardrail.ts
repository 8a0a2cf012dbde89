/**
 * Amazon Bedrock Guardrails for the local runner: a deterministic stand-in for the prompt-attack
 * filter behind `BedrockRuntimeClient.send`. It answers `ApplyGuardrailCommand` (what the Bedrock
 * stage calls to screen untrusted text) in the service's response shape, and a `ConverseCommand`
 * that carries a `guardrailConfig` with `stopReason: 'guardrail_intervened'` when the content
 * marked as guard content trips the filter. Every other command, and Converse calls it lets
 * through, go to the `next` client (the local model).
 *
 * Its detector is the pipeline's own deterministic screening (normalization, phrases, structure),
 * so locally this layer is not independent of them: it shows the wiring and the routing, not the
 * quality of the real filter, which is a model AWS runs.
 *
 * With `answerSpotlight` (the default), it also plays the model's part of spotlighting: when a
 * Converse prompt carries marked untrusted text and the reply from `next` is a JSON object without
 * `injectionSuspected`, it adds that field, true when the marked text trips the detector.
 */
import { markedTexts, screenDeterministic, SPOTLIGHT_FIELD } from '../../../stages/bedrock/handler/screening';

export interface LocalGuardrailOptions {
  /** Where every command the stand-in does not answer itself goes (the local model). */
  readonly next?: { send(command: any): Promise<any> };
  /** Add `injectionSuspected` to JSON replies of Converse calls with spotlighted text. Default: true. */
  readonly answerSpotlight?: boolean;
  /** The message returned in place of blocked input. */
  readonly blockedMessage?: string;
}

function nameOf(command: any): string {
  return command?.constructor?.name ?? typeof command;
}

function blockText(block: any): string {
  if (typeof block?.text === 'string') return block.text;
  if (typeof block?.text?.text === 'string') return block.text.text;
  if (typeof block?.guardContent?.text?.text === 'string') return block.guardContent.text.text;
  return '';
}

/** `BedrockRuntimeClient` stand-in for Guardrails' prompt-attack filter. */
export class LocalGuardrail {
  /** The guardrail calls so far (identifier, version, whether it intervened), for assertions. */
  public readonly calls: Array<{
    readonly guardrailIdentifier: string;
    readonly guardrailVersion: string;
    readonly intervened: boolean;
  }> = [];

  constructor(private readonly options: LocalGuardrailOptions = {}) {}

  /** True when the text holds a prompt attack, by the deterministic layers. */
  public promptAttack(text: string): boolean {
    const f = screenDeterministic([text]);
    return f.phrases.length + f.structure.length + f.normalization.length > 0;
  }

  public async send(command: any): Promise<any> {
    const name = nameOf(command);
    const input = command?.input ?? {};
    if (name === 'ApplyGuardrailCommand') return this.apply(input);
    if (name === 'ConverseCommand' && input.guardrailConfig) {
      const guarded = (input.messages ?? []).flatMap((m: any) => (m?.content ?? []).filter((b: any) => b?.guardContent)).map(blockText);
      const intervened = guarded.some((t: string) => this.promptAttack(t));
      const { guardrailIdentifier, guardrailVersion } = input.guardrailConfig;
      this.calls.push({ guardrailIdentifier, guardrailVersion, intervened });
      if (intervened) {
        return {
          $metadata: { httpStatusCode: 200 },
          output: { message: { role: 'assistant', content: [{ text: this.options.blockedMessage ?? 'Blocked by the guardrail.' }] } },
          stopReason: 'guardrail_intervened',
          usage: { inputTokens: 0, outputTokens: 0, totalTokens: 0 },
          metrics: { latencyMs: 0 },
        };
      }
    }
    if (!this.options.next) {
      const err = new Error(`LocalGuardrail: ${name} is not supported (only ApplyGuardrailCommand, unless a next client is given)`);
      err.name = 'UnsupportedCommand';
      throw err;
    }
    const out = await this.options.next.send(command);
    return name === 'ConverseCommand' && this.options.answerSpotlight !== false ? this.withSpotlight(input, out) : out;
  }

  private apply(input: any): any {
    const texts: string[] = (input.content ?? []).map(blockText);
    const intervened = input.source !== 'OUTPUT' && texts.some((t) => this.promptAttack(t));
    this.calls.push({ guardrailIdentifier: input.guardrailIdentifier, guardrailVersion: input.guardrailVersion, intervened });
    const chars = texts.reduce((n, t) => n + t.length, 0);
    return {
      $metadata: { httpStatusCode: 200 },
      action: intervened ? 'GUARDRAIL_INTERVENED' : 'NONE',
      outputs: intervened ? [{ text: this.options.blockedMessage ?? 'Blocked by the guardrail.' }] : [],
      assessments: [{
        contentPolicy: {
          filters: intervened ? [{ type: 'PROMPT_ATTACK', confidence: 'HIGH', filterStrength: 'HIGH', action: 'BLOCKED', detected: true }] : [],
        },
      }],
      usage: {
        topicPolicyUnits: 0,
        contentPolicyUnits: Math.ceil(chars / 1000),
        wordPolicyUnits: 0,
        sensitiveInformationPolicyUnits: 0,
        sensitiveInformationPolicyFreeUnits: 0,
        contextualGroundingPolicyUnits: 0,
      },
    };
  }

  /** Adds the model's spotlight report to a JSON reply that lacks it. */
  private withSpotlight(input: any, out: any): any {
    const prompt = (input.messages ?? []).filter((m: any) => m?.role === 'user').flatMap((m: any) => m.content ?? []).map(blockText).join('\n');
    const marked = markedTexts(prompt);
    const blocks: any[] = out?.output?.message?.content ?? [];
    const i = blocks.findIndex((b) => typeof b?.text === 'string');
    if (marked.length === 0 || i < 0) return out;
    let reply: any;
    try {
      reply = JSON.parse(blocks[i].text);
    } catch {
      return out; // not a bare JSON object: leave the reply as the model gave it
    }
    if (reply === null || typeof reply !== 'object' || Array.isArray(reply) || SPOTLIGHT_FIELD in reply) return out;
    reply[SPOTLIGHT_FIELD] = marked.some((t) => this.promptAttack(t));
    const content = [...blocks];
    content[i] = { ...blocks[i], text: JSON.stringify(reply) };
    return { ...out, output: { ...out.output, message: { ...out.output.message, content } } };
  }
}
