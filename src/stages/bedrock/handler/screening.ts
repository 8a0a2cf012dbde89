/**
 * Deterministic prompt-injection screening of the text a Bedrock stage puts into its prompt.
 * No model is involved: a fixed list of named patterns is matched against the resolved
 * placeholder values (the user's own template is trusted and not screened). The stage output
 * carries the result so that routing can refuse to auto-approve a document that tries to steer
 * the model. Only pattern names ever leave this module, never the matched text.
 */

/** What the handler adds to every Bedrock stage output under `screening`. */
export interface ScreeningResult {
  readonly promptInjection: boolean;
  /** Names of the patterns that matched, in the order of `INJECTION_PATTERNS`. */
  readonly patterns: string[];
}

/** Named instruction-like patterns. Names are stable: audit records and routing may rely on them. */
export const INJECTION_PATTERNS: ReadonlyArray<{ readonly name: string; readonly pattern: RegExp }> = [
  {
    name: 'ignore-instructions',
    pattern: /\b(?:ignore|forget|override|skip)\s+(?:all\s+|any\s+|every\s+)?(?:of\s+)?(?:the\s+|your\s+|these\s+)?(?:previous|prior|above|earlier|preceding|foregoing|original)\s+(?:instructions?|directions?|prompts?|rules|guidelines|context)\b/i,
  },
  {
    name: 'disregard-instructions',
    pattern: /\bdisregard\b[^.\n]{0,60}?\b(?:instructions?|directions?|prompts?|rules|guidelines|guardrails?)\b/i,
  },
  { name: 'new-instructions', pattern: /\b(?:new|updated|real|actual|hidden)\s+instructions?\s*[:\-]/i },
  {
    name: 'role-override',
    pattern: /\b(?:you\s+are\s+now|from\s+now\s+on\s+you\s+(?:are|will)|act\s+as\s+(?:an?\s+)?(?:unrestricted|different|new)|pretend\s+(?:to\s+be|you\s+are))\b/i,
  },
  { name: 'system-prompt', pattern: /\bsystem\s+(?:prompt|message|instructions?)\b/i },
  {
    name: 'chat-markup',
    pattern: /<\s*\/?\s*(?:system|assistant|instructions?)\s*>|\[\/?(?:INST|SYS)\]|<<\s*\/?\s*SYS\s*>>|<\|im_start\|>|^\s*(?:system|assistant|human)\s*:/im,
  },
  { name: 'auto-approve', pattern: /\bauto[\s_-]?approv(?:e|ed|al|ing)\b/i },
  {
    name: 'approve-document',
    pattern: /\b(?:approve|accept|sign\s+off)\s+this\s+(?:contract|document|agreement|file|submission|request|application|claim|invoice)\b/i,
  },
  {
    name: 'output-manipulation',
    pattern: /\b(?:set|mark|rate|score|classify|report|flag)\b[^.\n]{0,40}?\b(?:risk(?:\s*score)?|riskScore|this\s+(?:contract|document|agreement))\b[^.\n]{0,20}?\b(?:to|as|at)\s+(?:0(?:\.0+)?|zero|none|low|safe|approved|benign)\b/i,
  },
  { name: 'jailbreak', pattern: /\b(?:jailbreak|developer\s+mode|DAN\s+mode|do\s+anything\s+now)\b/i },
];

/** Characters used to hide instructions from a reader (zero-width, soft hyphen, bidi controls). */
const INVISIBLE = /[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]/g;

/** Screens the given texts; returns which named patterns match any of them. */
export function screenForInjection(texts: readonly string[]): ScreeningResult {
  const normalized = texts.map((t) => t.normalize('NFKC').replace(INVISIBLE, ''));
  const patterns = INJECTION_PATTERNS
    .filter(({ pattern }) => normalized.some((t) => pattern.test(t)))
    .map(({ name }) => name);
  return { promptInjection: patterns.length > 0, patterns };
}
