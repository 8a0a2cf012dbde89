/**
 * The legal example's contract classifier for the local runner: a deterministic keyword classifier
 * (NDA, MSA, SOW, EMPLOYMENT, OTHER) standing in for the SageMaker endpoint of the `Classify` stage.
 *
 * The document's heading weighs most: a phrase like "Non-Disclosure Agreement" in the first lines
 * decides the type, so an NDA that mentions employees stays an NDA. Body keywords add evidence
 * (each counted at most three times). Confidence comes from the margin between the best and the
 * second-best score, rounded to 2 decimals.
 */
export type ContractType = 'NDA' | 'MSA' | 'SOW' | 'EMPLOYMENT' | 'OTHER';

/** What the local endpoint answers. */
export interface Classification {
  readonly documentType: ContractType;
  readonly confidence: number;
}

/** A classification with the scores behind it (for tests and explanations). */
export interface ScoredClassification extends Classification {
  readonly scores: { readonly [type in Exclude<ContractType, 'OTHER'>]: number };
}

type Known = Exclude<ContractType, 'OTHER'>;

interface Keyword { readonly pattern: RegExp; readonly weight: number }

/** Phrases that name the contract in its heading. */
const TITLE_PHRASES: { readonly [type in Known]: readonly RegExp[] } = {
  NDA: [/\bnon[- ]?disclosure\b/i, /\bconfidentiality agreement\b/i, /\bNDA\b/, /\bsecrecy agreement\b/i],
  MSA: [/\bmaster (?:services?|subscription|supply|consulting) agreement\b/i, /\bmaster agreement\b/i, /\bMSA\b/],
  SOW: [/\bstatement of work\b/i, /\bSOW\b/, /\bwork order\b/i, /\bproject order\b/i],
  EMPLOYMENT: [/\bemployment (?:agreement|contract)\b/i, /\boffer (?:letter|of employment)\b/i, /\bcontract of employment\b/i],
};

/** Body keywords and their weights. */
const BODY_KEYWORDS: { readonly [type in Known]: readonly Keyword[] } = {
  NDA: [
    { pattern: /\bnon[- ]?disclosure\b/gi, weight: 2 },
    { pattern: /\bconfidential information\b/gi, weight: 2 },
    { pattern: /\bdisclosing party\b/gi, weight: 2 },
    { pattern: /\breceiving party\b/gi, weight: 2 },
    { pattern: /\btrade secrets?\b/gi, weight: 1 },
    { pattern: /\bconfidentiality\b/gi, weight: 1 },
  ],
  MSA: [
    { pattern: /\bmaster services? agreement\b/gi, weight: 3 },
    { pattern: /\bmaster agreement\b/gi, weight: 2 },
    { pattern: /\bstatements of work\b/gi, weight: 1 },
    { pattern: /\bservice levels?\b/gi, weight: 1 },
    { pattern: /\border forms?\b/gi, weight: 1 },
    { pattern: /\bfees\b/gi, weight: 0.5 },
  ],
  SOW: [
    { pattern: /\bstatement of work\b/gi, weight: 2 },
    { pattern: /\bdeliverables?\b/gi, weight: 2 },
    { pattern: /\bmilestones?\b/gi, weight: 2 },
    { pattern: /\bacceptance criteria\b/gi, weight: 1 },
    { pattern: /\bproject (?:schedule|plan|timeline)\b/gi, weight: 1 },
  ],
  EMPLOYMENT: [
    { pattern: /\bemployment agreement\b/gi, weight: 3 },
    { pattern: /\bemployee\b/gi, weight: 1 },
    { pattern: /\bemployer\b/gi, weight: 1 },
    { pattern: /\b(?:base )?salary\b/gi, weight: 2 },
    { pattern: /\bat[- ]will\b/gi, weight: 1 },
    { pattern: /\b(?:paid time off|vacation days?)\b/gi, weight: 0.5 },
    { pattern: /\bjob title\b|\bposition of\b/gi, weight: 0.5 },
  ],
};

const TYPES: readonly Known[] = ['NDA', 'MSA', 'SOW', 'EMPLOYMENT'];
/** Weight of a heading phrase: one decides the type over any body evidence a normal document has. */
const TITLE_WEIGHT = 12;
/** Times one body keyword counts at most. */
const MAX_KEYWORD_COUNT = 3;
/** Least score for a known type; below it the document is OTHER. */
const MIN_SCORE = 4;
/** Lines read as the heading. */
const HEADING_LINES = 4;

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

/** The first non-empty short lines of a text: where a contract names itself. */
export function headingOf(text: string): string {
  return text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0 && l.length <= 120).slice(0, HEADING_LINES).join('\n');
}

/**
 * The types named by the document's title: the first heading line that names any type (a SOW's
 * title line comes before the line naming the MSA it falls under).
 */
function titleTypes(text: string): Known[] {
  for (const line of headingOf(text).split('\n')) {
    const named = TYPES.filter((type) => TITLE_PHRASES[type].some((p) => p.test(line)));
    if (named.length > 0) return named;
  }
  return [];
}

/** Classifies a contract's text, with the scores behind the answer. Pure and deterministic. */
export function classifyContract(text: string): ScoredClassification {
  const titled = titleTypes(text);
  const body = text.replace(/\s+/g, ' ');
  const scores = {} as { [type in Known]: number };
  for (const type of TYPES) {
    let score = titled.includes(type) ? TITLE_WEIGHT : 0;
    for (const { pattern, weight } of BODY_KEYWORDS[type]) {
      const count = body.match(pattern)?.length ?? 0;
      score += weight * Math.min(count, MAX_KEYWORD_COUNT);
    }
    scores[type] = score;
  }
  const ranked = [...TYPES].sort((a, b) => scores[b] - scores[a] || TYPES.indexOf(a) - TYPES.indexOf(b));
  const best = scores[ranked[0]];
  const second = scores[ranked[1]];
  if (best < MIN_SCORE) {
    // Nothing clear: the less evidence for any known type, the surer the OTHER.
    return { documentType: 'OTHER', confidence: round2(0.9 - 0.4 * (best / MIN_SCORE)), scores };
  }
  const margin = (best - second) / best;
  const strength = Math.min(1, best / TITLE_WEIGHT);
  return { documentType: ranked[0], confidence: round2(0.5 + 0.45 * margin * strength), scores };
}

/** The endpoint's request, as the pipeline's SageMaker stage sends it (`request: { text: '$.text' }`). */
export interface ClassifierRequest {
  readonly text?: string;
  readonly [field: string]: unknown;
}

/**
 * The local model of the `Classify` stage (`cdk-ai-pipeline local --model Classify=local-models/classifier.ts`):
 * gets the InvokeEndpoint request body the stage builds and returns the endpoint's reply body.
 */
export function handler(request: ClassifierRequest | string): Classification {
  const text = typeof request === 'string' ? request
    : typeof request.text === 'string' ? request.text
      : Object.values(request).filter((v): v is string => typeof v === 'string').join('\n\n');
  const { documentType, confidence } = classifyContract(text);
  return { documentType, confidence };
}
