/**
 * Prompt-injection screening of the untrusted text a Bedrock stage puts into its prompt, in
 * layers that are each reported on their own:
 *
 * - `normalization`: undoes disguises (see ./normalize) and flags deliberate hiding;
 * - `phrases`: multilingual instruction-like phrases (see ./phrases);
 * - `structure`: prompt delimiters, chat markup, contract-shaped JSON, text addressed to an AI (see ./structure);
 * - `guardrail`: Amazon Bedrock Guardrails' prompt-attack filter (called by the handler);
 * - `spotlight`: the model's own `injectionSuspected` report on the marked untrusted text (handler).
 *
 * This module holds the deterministic layers and the policy that folds all five into the stage
 * output's `screening`. Only finding names ever leave it, never the matched text.
 */
import { Normalized, normalize, TextView } from './normalize';
import { findPhrases } from './phrases';
import { findStructure, StructureContext } from './structure';

export { foldText, normalize } from './normalize';
export { findPhrases, PHRASE_PATTERNS } from './phrases';
export { findStructure, templateTags } from './structure';
export type { StructureContext } from './structure';

/** The screening layers, in the order they run. */
export const LAYERS = ['normalization', 'phrases', 'structure', 'guardrail', 'spotlight'] as const;
export type LayerName = typeof LAYERS[number];

/** What a layer's findings do: block auto-approve, only be recorded, or the layer does not run. */
export type LayerMode = 'enforce' | 'report' | 'off';
export type LayerModes = { readonly [L in LayerName]: LayerMode };

/** The modes when the stage config names none: the deterministic layers enforce, the others are off. */
export const LOCAL_LAYERS_ONLY: LayerModes = { normalization: 'enforce', phrases: 'enforce', structure: 'enforce', guardrail: 'off', spotlight: 'off' };

/** Findings per layer: names, e.g. `ignore-instructions-de`, `prompt-delimiter`, `hidden:base64`. */
export type LayerFindings = { [L in LayerName]?: string[] };

/** What the handler adds to every Bedrock stage output under `screening`. */
export interface ScreeningResult {
  /** True when any enforced layer found something: no auto-approve rule can fire. */
  readonly promptInjection: boolean;
  /** Every finding of every layer that ran, as `<layer>:<name>` (enforced or reported). */
  readonly patterns: string[];
  /** The model's own report that the marked untrusted text tries to instruct it (false when spotlighting is off). */
  readonly injectionSuspected: boolean;
  /** One flag per enforced layer: true when that layer found something. Routing requires every one false. */
  readonly layers: { [layer: string]: boolean };
}

/** Options of the deterministic layers. */
export interface DeterministicOptions extends StructureContext {
  /** Run the normalization layer (undo disguises); when false, the other layers see the text only lower-cased. */
  readonly normalize?: boolean;
}

/** Findings of the deterministic layers (normalization, phrases, structure). */
export type DeterministicFindings = Required<Pick<LayerFindings, 'normalization' | 'phrases' | 'structure'>>;

/** Findings of the deterministic layers (normalization, phrases, structure) over the given texts. */
export function screenDeterministic(texts: readonly string[], options: DeterministicOptions = {}): DeterministicFindings {
  const steps = screeningSteps(texts, options);
  let step = steps.next();
  while (!step.done) step = steps.next();
  return step.value;
}

/**
 * The same findings, giving the event loop a turn between one view of a text and the next (`turn`,
 * by default one `setImmediate`). The Bedrock stage screens while its guardrail call is on its way:
 * run in one piece, the screening would hold that call back, since opening its connection and
 * sending it take turns of the event loop too.
 */
export async function screenDeterministicInTurns(
  texts: readonly string[],
  options: DeterministicOptions = {},
  turn: () => Promise<void> = () => new Promise((resolve) => setImmediate(resolve)),
): Promise<DeterministicFindings> {
  const steps = screeningSteps(texts, options);
  let step = steps.next();
  while (!step.done) {
    await turn();
    step = steps.next();
  }
  return step.value;
}

/** The deterministic layers, one step per view of each text (a text's normalization is its first step). */
function* screeningSteps(texts: readonly string[], options: DeterministicOptions): Generator<void, DeterministicFindings> {
  const normalization = new Set<string>();
  const phrases = new Set<string>();
  const structure = new Set<string>();
  for (const text of texts) {
    const n: Normalized = options.normalize === false ? rawViews(text) : normalize(text);
    n.obfuscation.forEach((o) => normalization.add(o));
    // What the text shows as it is: the plain view comes first.
    const inPlain = new Set<string>();
    for (const view of n.views) {
      yield;
      const found = findIn(view, options, view.via === 'plain' ? n.lines : undefined);
      found.phrases.forEach((p) => phrases.add(p));
      found.structure.forEach((s) => structure.add(s));
      const names = [...found.phrases, ...found.structure];
      if (view.via === 'plain') {
        names.forEach((f) => inPlain.add(f));
      } else if (names.some((f) => !inPlain.has(f))) {
        // A finding visible only once a disguise is undone is itself a sign of deliberate hiding. One
        // the plain text shows too is not: digits read as letters would flag every plain injection
        // in a text with a number in it.
        normalization.add(`hidden:${view.via.replace(/-joined$/, '')}`);
      }
    }
  }
  return { normalization: [...normalization].sort(), phrases: [...phrases].sort(), structure: [...structure].sort() };
}

function findIn(view: TextView, options: DeterministicOptions, lines?: string) {
  const joined = view.via.endsWith('-joined');
  return { phrases: findPhrases(view.text, joined), structure: findStructure(view.text, options, joined, lines) };
}

/** The text lower-cased with its whitespace collapsed: what the layers see without normalization. */
function rawViews(text: string): Normalized {
  const lower = text.toLowerCase();
  return { views: [{ via: 'plain', text: lower.replace(/\s+/g, ' ').trim() }], lines: lower, obfuscation: [] };
}

/**
 * The policy: folds the findings of every layer into the stage output's `screening`. An enforced
 * layer with a finding sets `promptInjection` and its own flag in `layers`; a reported layer's
 * findings only appear in `patterns`; a layer that is off contributes nothing.
 */
export function screeningResult(findings: LayerFindings, modes: LayerModes, injectionSuspected = false): ScreeningResult {
  const patterns: string[] = [];
  const layers: { [layer: string]: boolean } = {};
  for (const layer of LAYERS) {
    const mode = modes[layer];
    if (mode === 'off') continue;
    const names = findings[layer] ?? [];
    patterns.push(...names.map((n) => `${layer}:${n}`));
    if (mode === 'enforce') layers[layer] = names.length > 0;
  }
  return {
    promptInjection: Object.values(layers).some((v) => v),
    patterns,
    injectionSuspected: modes.spotlight !== 'off' && injectionSuspected,
    layers,
  };
}

/** The deterministic layers' screening of texts, with the default modes (no guardrail, no spotlight). */
export function screenForInjection(
  texts: readonly string[],
  options: DeterministicOptions = {},
  modes: LayerModes = LOCAL_LAYERS_ONLY,
): ScreeningResult {
  const deterministic = screenDeterministic(texts, { ...options, normalize: modes.normalization !== 'off' });
  return screeningResult(deterministic, modes);
}

export { markedTexts, markUntrusted, newMarker, SPOTLIGHT_FIELD, spotlightInstruction } from './spotlight';
