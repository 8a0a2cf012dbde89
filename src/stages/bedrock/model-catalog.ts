/**
 * What the Bedrock stage knows about models it has not been told about: which Converse features
 * they support and their list prices. Every entry can be overridden on the stage
 * (`modelCapabilities`, `price`); see ADR-0023.
 */
import type { BedrockModelCapabilities, BedrockModelPrice } from './bedrock-stage';
import { cloneSchema } from '../../contracts/schemas';

/** The model id without a cross-region inference profile's prefix (`us.`, `eu.`, `apac.`, `global.`, ...). */
export function baseModelId(modelId: string): string {
  return modelId.replace(/^(us|eu|apac|global|us-gov|jp|au|ca)\./, '');
}

/**
 * Models with Converse JSON-schema structured output, by the start of their base id (Amazon Bedrock
 * User Guide, "Get validated JSON results from models").
 */
const STRUCTURED_OUTPUT = [
  'anthropic.claude-haiku-4-5',
  'anthropic.claude-sonnet-4-5',
  'anthropic.claude-opus-4-5',
  'anthropic.claude-opus-4-6',
];

/** Models with Converse prompt caching, by the start of their base id (Amazon Bedrock User Guide, "Prompt caching"). */
const PROMPT_CACHING = [
  'anthropic.claude-3-5-haiku',
  'anthropic.claude-3-7-sonnet',
  'anthropic.claude-sonnet-4',
  'anthropic.claude-opus-4',
  'anthropic.claude-haiku-4-5',
  'amazon.nova-micro',
  'amazon.nova-lite',
  'amazon.nova-pro',
  'amazon.nova-premier',
];

/** Where the built-in prices come from. */
export const BEDROCK_PRICE_SOURCE = 'built-in table: Amazon Bedrock on-demand list prices, us-east-1, standard tier (aws.amazon.com/bedrock/pricing), as recorded 2026-11-28; override with the stage\'s `price`';

/** Built-in list prices per 1,000 tokens, by base model id (the same figures as the capacity planner's table). */
const PRICES: { [model: string]: Omit<BedrockModelPrice, 'source'> } = {
  'anthropic.claude-3-haiku-20240307-v1:0': { inputPer1k: 0.00025, outputPer1k: 0.00125 },
  'anthropic.claude-3-5-haiku-20241022-v1:0': { inputPer1k: 0.0008, outputPer1k: 0.004, cacheReadPer1k: 0.00008, cacheWritePer1k: 0.001 },
  'anthropic.claude-3-5-sonnet-20241022-v2:0': { inputPer1k: 0.003, outputPer1k: 0.015 },
  'anthropic.claude-3-7-sonnet-20250219-v1:0': { inputPer1k: 0.003, outputPer1k: 0.015, cacheReadPer1k: 0.0003, cacheWritePer1k: 0.00375 },
  'anthropic.claude-sonnet-4-20250514-v1:0': { inputPer1k: 0.003, outputPer1k: 0.015, cacheReadPer1k: 0.0003, cacheWritePer1k: 0.00375 },
};

/** The capabilities of a model: the built-in table's, with the user's overrides on top. */
export function capabilitiesOf(modelId: string, overrides: BedrockModelCapabilities = {}): Required<BedrockModelCapabilities> {
  const base = baseModelId(modelId);
  return {
    structuredOutput: overrides.structuredOutput ?? STRUCTURED_OUTPUT.some((p) => base.startsWith(p)),
    promptCaching: overrides.promptCaching ?? PROMPT_CACHING.some((p) => base.startsWith(p)),
  };
}

/** The list prices of a model: the user's, or the built-in table's; undefined when neither has it. */
export function priceOf(modelId: string, override?: BedrockModelPrice): BedrockModelPrice | undefined {
  if (override) return override;
  const known = PRICES[baseModelId(modelId)];
  return known ? { ...known, source: BEDROCK_PRICE_SOURCE } : undefined;
}

/**
 * The schema sent as Converse structured output: the model contract with every object closed
 * (structured output needs `additionalProperties: false`) and, with spotlighting, the boolean
 * `injectionSuspected` the stage asks for and takes out before validating.
 */
export function structuredSchema(modelSchema: { [key: string]: any }, spotlight: boolean): { [key: string]: any } {
  const close = (node: any): any => {
    if (Array.isArray(node)) return node.map(close);
    if (node === null || typeof node !== 'object') return node;
    const out: { [key: string]: any } = {};
    for (const [k, v] of Object.entries(node)) {
      out[k] = k === 'properties' && v && typeof v === 'object'
        ? Object.fromEntries(Object.entries(v as object).map(([name, sub]) => [name, close(sub)]))
        : close(v);
    }
    if ((out.type === 'object' || out.properties) && out.additionalProperties === undefined) out.additionalProperties = false;
    return out;
  };
  const schema = close(cloneSchema(modelSchema as any));
  schema.type = 'object';
  if (spotlight) {
    schema.properties = { ...(schema.properties ?? {}), injectionSuspected: { type: 'boolean' } };
    schema.required = [...new Set([...(schema.required ?? []), 'injectionSuspected'])];
  }
  return schema;
}
