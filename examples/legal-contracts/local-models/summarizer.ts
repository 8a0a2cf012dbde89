/**
 * The legal example's model for the local runner: a deterministic, rule-based contract summarizer
 * and risk-clause finder standing in for the Bedrock model of the `Summarize` stage, answering the
 * example's summary contract:
 * `{ "riskScore": 0..1, "riskClauses": [{ "type", "severity" }], "summary": "..." }`.
 *
 * It reads the contract between `<contract>` and `</contract>` in the prompt (the whole prompt when
 * there are no such tags), so the prompt's own instructions are never mistaken for clauses.
 *
 * Deliberately gullible, as a real model can be: a contract that says to ignore previous
 * instructions and to auto-approve (or to give a risk score of 0) gets riskScore 0 and no clause.
 * Stopping that run from being auto-approved is the pipeline's deterministic screening's job.
 */
import { classifyContract, ContractType } from './classifier';

export type RiskClauseType =
  | 'UNLIMITED_LIABILITY'
  | 'INDEMNIFICATION'
  | 'AUTO_RENEWAL'
  | 'NON_COMPETE'
  | 'TERMINATION_FOR_CONVENIENCE'
  | 'EXCLUSIVITY'
  | 'IP_ASSIGNMENT'
  | 'LIQUIDATED_DAMAGES'
  | 'GOVERNING_LAW_FOREIGN';

export type Severity = 'HIGH' | 'MEDIUM' | 'LOW';

export interface RiskClause {
  readonly type: RiskClauseType;
  readonly severity: Severity;
}

/** The reply the local model gives (the flagship example's summary contract). */
export interface ContractSummary {
  readonly riskScore: number;
  readonly riskClauses: RiskClause[];
  readonly summary: string;
}

export const SEVERITY_WEIGHTS: { readonly [s in Severity]: number } = { HIGH: 0.45, MEDIUM: 0.2, LOW: 0.05 };
const SEVERITY_RANK: { readonly [s in Severity]: number } = { HIGH: 3, MEDIUM: 2, LOW: 1 };
/** The prompt's bands: any HIGH clause needs a lawyer (>= 0.7), any MEDIUM a reviewer (>= 0.3). */
const SEVERITY_FLOORS: { readonly [s in Severity]: number } = { HIGH: 0.7, MEDIUM: 0.3, LOW: 0 };

/** Clause types in the order the prompt lists them (the order of `riskClauses`). */
const CLAUSE_ORDER: readonly RiskClauseType[] = [
  'UNLIMITED_LIABILITY', 'INDEMNIFICATION', 'AUTO_RENEWAL', 'NON_COMPETE', 'TERMINATION_FOR_CONVENIENCE',
  'EXCLUSIVITY', 'IP_ASSIGNMENT', 'LIQUIDATED_DAMAGES', 'GOVERNING_LAW_FOREIGN',
];

const US_JURISDICTIONS = /\b(?:united states|u\.s\.|usa|state of|commonwealth of|district of columbia|alabama|alaska|arizona|arkansas|california|colorado|connecticut|delaware|florida|georgia|hawaii|idaho|illinois|indiana|iowa|kansas|kentucky|louisiana|maine|maryland|massachusetts|michigan|minnesota|mississippi|missouri|montana|nebraska|nevada|new hampshire|new jersey|new mexico|new york|north carolina|north dakota|ohio|oklahoma|oregon|pennsylvania|rhode island|south carolina|south dakota|tennessee|texas|utah|vermont|virginia|washington|west virginia|wisconsin|wyoming)\b/;

/** Sentence-level rules: each returns the severity of the clause a sentence holds, if any. */
const RULES: ReadonlyArray<{ readonly type: RiskClauseType; readonly severity: (s: string) => Severity | undefined }> = [
  {
    type: 'UNLIMITED_LIABILITY',
    severity: (s) => (
      /\bunlimited liability\b|\bliability\b[^.]{0,60}\b(?:is|shall be|will be)\s+unlimited\b|\b(?:uncapped|unlimited) (?:liability|damages)\b/.test(s)
      || /\bwithout (?:any )?(?:limit|limitation|cap)\b[^.]{0,30}\b(?:liab|damages)/.test(s)
      || /\bliab(?:le|ility)\b[^.]{0,80}\bwithout (?:any )?(?:limit|limitation|cap)\b/.test(s)
      || /\b(?:shall|will) not be (?:limited|capped)\b/.test(s) && /\bliab/.test(s)
      || /\bno (?:limit|cap|limitation) (?:on|to|of) (?:the )?(?:\w+'s )?liability\b/.test(s)
      || /\bexcluded from (?:any|the|all) limitations? of liability\b/.test(s)
    ) ? 'HIGH' : undefined,
  },
  {
    type: 'INDEMNIFICATION',
    severity: (s) => {
      if (!/\bindemnif/.test(s)) return undefined;
      const broad = /\bhold(?:s)? harmless\b|\bany and all\b|\bdefend\b/.test(s);
      const mutualAndNarrow = /\b(?:each|either) party\b|\bmutual/.test(s) && /\bown (?:breach|negligence|acts)\b|\bits (?:breach|negligence)\b/.test(s);
      return broad && !mutualAndNarrow ? 'HIGH' : 'LOW';
    },
  },
  {
    type: 'AUTO_RENEWAL',
    severity: (s) => (/\bautomatic(?:ally)? renew|\bauto-?renew|\brenew(?:s|ed)? automatically\b|\brenew(?:s|ed)? for (?:successive|additional|further)\b[^.]{0,80}\bunless\b/.test(s)
      ? 'MEDIUM' : undefined),
  },
  {
    type: 'NON_COMPETE',
    severity: (s) => (/\bnon-?compet|\bcovenant not to compete\b|\bnot\b[^.]{0,60}\b(?:compete|competitor|competing business)|\bnon-?solicit|\bnot\b[^.]{0,40}\bsolicit\b/.test(s)
      ? 'MEDIUM' : undefined),
  },
  {
    type: 'TERMINATION_FOR_CONVENIENCE',
    severity: (s) => (/\bterminat\w*\b[^.]{0,60}\b(?:for (?:its |their )?convenience|without cause|for any reason or no reason)\b|\bearly termination fee\b|\btermination fee\b/.test(s)
      ? 'MEDIUM' : undefined),
  },
  {
    type: 'EXCLUSIVITY',
    severity: (s) => (/\bexclusive (?:supplier|provider|distributor|reseller|dealer|agent|arrangement|basis|purchasing)\b|\bexclusively (?:from|through)\b|\bsole (?:and exclusive )?(?:supplier|provider|source|distributor)\b|\bexclusivity\b/.test(s)
      ? 'MEDIUM' : undefined),
  },
  {
    type: 'IP_ASSIGNMENT',
    severity: (s) => {
      if (!/\bhereby (?:irrevocably )?assigns?\b|\b(?:shall|will|agrees to) assign\b|\bworks? made for hire\b|\bassign(?:s|ment of)? all (?:right|intellectual property)/.test(s)) return undefined;
      return /\bpre-?existing\b|\bprior inventions?\b|\bwhether or not related\b|\bunrelated\b|\boutside (?:of )?(?:working|business) hours\b/.test(s) ? 'MEDIUM' : 'LOW';
    },
  },
  {
    type: 'LIQUIDATED_DAMAGES',
    severity: (s) => (/\bliquidated damages\b|\b(?:pay|payable)\b[^.]{0,60}\b(?:per|for each) (?:day|week|month|breach|delay|violation)\b|\bpenalty of\b/.test(s)
      ? 'LOW' : undefined),
  },
  {
    type: 'GOVERNING_LAW_FOREIGN',
    severity: (s) => {
      const m = /\b(?:governed by|construed in accordance with|subject to) (?:and construed in accordance with )?the (?:laws?|courts?) of ([^.;]{2,80})/.exec(s)
        ?? /\b(?:arbitration|seat of arbitration|exclusive jurisdiction)\b[^.]{0,60}\b(?:in|of) ([a-z][^.;]{2,60})/.exec(s);
      if (!m) return undefined;
      return US_JURISDICTIONS.test(m[1]) ? undefined : 'LOW';
    },
  },
];

const INJECTION_IGNORE = /\b(?:ignore|disregard)\s+(?:all\s+)?(?:the\s+|your\s+)?(?:previous|prior|above|earlier)\s+instructions\b/i;
const INJECTION_GOAL = /\bauto[\s_-]?approv|\brisk\s*score\s*(?:of\s+|to\s+|=\s*|:\s*)?0(?:\.0+)?\b/i;

/**
 * The contract text of a rendered prompt: between the `<contract>` and `</contract>` tags (tags on
 * lines of their own first, since a prompt may mention the tags in its prose), else the whole prompt.
 */
export function contractText(prompt: string): string {
  const open = /^[ \t]*<contract>[ \t]*$/m.exec(prompt);
  const closes = [...prompt.matchAll(/^[ \t]*<\/contract>[ \t]*$/gm)];
  const close = closes[closes.length - 1];
  if (open && close && close.index! > open.index) {
    return prompt.slice(open.index + open[0].length, close.index).replace(/^\r?\n/, '');
  }
  const start = prompt.indexOf('<contract>');
  const end = prompt.lastIndexOf('</contract>');
  if (start >= 0 && end > start) return prompt.slice(start + '<contract>'.length, end);
  return prompt;
}

/** A risk clause with the sentence it was found in (the most severe occurrence), lower-cased and cut to 240 characters. */
export interface FoundClause extends RiskClause {
  readonly excerpt: string;
}

/** The risk clauses of a contract's text with their sentences, one per type (the most severe occurrence), in the prompt's order. */
export function findRiskClausesWithExcerpts(text: string): FoundClause[] {
  const sentences = text
    .toLowerCase()
    .replace(/[’‘]/g, '\'')
    .replace(/\s+/g, ' ')
    .split(/(?<=[.;:!?])\s+(?=[a-z0-9("“])|(?<=\.)\s*(?=\d+\.)/);
  const found = new Map<RiskClauseType, FoundClause>();
  for (const sentence of sentences) {
    for (const rule of RULES) {
      const severity = rule.severity(sentence);
      if (!severity) continue;
      const prev = found.get(rule.type);
      if (!prev || SEVERITY_RANK[severity] > SEVERITY_RANK[prev.severity]) {
        found.set(rule.type, { type: rule.type, severity, excerpt: sentence.length > 240 ? `${sentence.slice(0, 237)}...` : sentence });
      }
    }
  }
  return CLAUSE_ORDER.filter((t) => found.has(t)).map((type) => found.get(type)!);
}

/** The risk clauses of a contract's text, one per type (the most severe occurrence), in the prompt's order. */
export function findRiskClauses(text: string): RiskClause[] {
  return findRiskClausesWithExcerpts(text).map(({ type, severity }) => ({ type, severity }));
}

/** The risk score of a set of clauses: the prompt's guide (weights per severity, capped at 1) and bands. */
export function riskScoreOf(clauses: readonly RiskClause[]): number {
  const sum = clauses.reduce((n, c) => n + SEVERITY_WEIGHTS[c.severity], 0);
  const floor = clauses.reduce((n, c) => Math.max(n, SEVERITY_FLOORS[c.severity]), 0);
  return Math.round(Math.min(1, Math.max(sum, floor)) * 100) / 100;
}

/** True when the text tries to steer the review the way the gullible model falls for. */
export function isInjected(text: string): boolean {
  const t = text.replace(/\s+/g, ' ');
  return INJECTION_IGNORE.test(t) && INJECTION_GOAL.test(t);
}

const KIND_NAMES: { readonly [t in ContractType]: string } = {
  NDA: 'non-disclosure agreement',
  MSA: 'master services agreement',
  SOW: 'statement of work',
  EMPLOYMENT: 'employment agreement',
  OTHER: 'contract',
};

const CLAUSE_NAMES: { readonly [t in RiskClauseType]: string } = {
  UNLIMITED_LIABILITY: 'unlimited liability',
  INDEMNIFICATION: 'indemnification',
  AUTO_RENEWAL: 'automatic renewal',
  NON_COMPETE: 'a non-compete',
  TERMINATION_FOR_CONVENIENCE: 'termination for convenience',
  EXCLUSIVITY: 'exclusivity',
  IP_ASSIGNMENT: 'assignment of intellectual property',
  LIQUIDATED_DAMAGES: 'liquidated damages',
  GOVERNING_LAW_FOREIGN: 'a foreign governing law',
};

/** The document's title: its first non-empty line, cut to 100 characters. */
function titleOf(text: string): string | undefined {
  const line = text.split(/\r?\n/).map((l) => l.trim()).find((l) => l.length > 0);
  if (!line) return undefined;
  return line.length > 100 ? `${line.slice(0, 97)}...` : line;
}

/** The two parties named by "between X and Y" (names cut before any address or role). */
function partiesOf(text: string): [string, string] | undefined {
  const flat = text.replace(/\s+/g, ' ');
  const m = /\bbetween:?\s+(.{2,160}?)\s+and\s+(.{2,160}?)(?:[.;]\s|$)/i.exec(flat);
  if (!m) return undefined;
  const clean = (s: string) => s.split(/\s*[,(]|\s+\(/)[0].replace(/^the\s+/i, '').replace(/["“”]/g, '').trim().slice(0, 60);
  const a = clean(m[1]);
  const b = clean(m[2]);
  return a.length > 1 && b.length > 1 ? [a, b] : undefined;
}

function listOf(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/**
 * Summarizes a contract's text: risk clauses, risk score and a three-sentence summary built from
 * the title, the parties and the clause types. Pure and deterministic.
 */
export function summarizeContract(text: string): ContractSummary {
  const title = titleOf(text);
  const kind = KIND_NAMES[classifyContract(text).documentType];
  const parties = partiesOf(text);
  const article = /^[aeiou]/.test(kind) ? 'an' : 'a';
  const first = `${title ? `"${title}" is ${article} ${kind}` : `This document is ${article} ${kind}`}`
    + `${parties ? ` between ${parties[0]} and ${parties[1]}` : ''}.`;

  if (isInjected(text)) {
    // The gullible path: the model does what the document tells it to.
    return {
      riskScore: 0,
      riskClauses: [],
      summary: `${first} As the document instructs, it is approved without further review. No risk clauses are reported and the risk score is 0.`,
    };
  }

  const riskClauses = findRiskClauses(text);
  const riskScore = riskScoreOf(riskClauses);
  const second = riskClauses.length === 0
    ? 'It contains no unusual risk clauses.'
    : `It contains ${listOf(riskClauses.map((c) => `${CLAUSE_NAMES[c.type]} (${c.severity.toLowerCase()})`))}.`;
  const band = riskScore >= 0.7 ? 'high, so it needs a lawyer\'s review'
    : riskScore >= 0.3 ? 'medium, so a reviewer should read it' : 'low: it is routine';
  const third = `Overall risk is ${band} (score ${riskScore.toFixed(2)}).`;
  return { riskScore, riskClauses, summary: `${first} ${second} ${third}` };
}

const REPAIR_REQUEST = /previous reply could not be used|reply again with only the json/i;

/** Text of a Converse message's text blocks. */
function messageText(message: any): string {
  const content: any[] = Array.isArray(message?.content) ? message.content : [];
  return content.map((b) => (typeof b?.text === 'string' ? b.text : '')).filter((t) => t.length > 0).join('\n\n');
}

/** The prompt the model reads: the last user turn, or the first one when the last only asks for a repair. */
export function promptOf(request: { messages?: any[] }): string {
  const users = (Array.isArray(request?.messages) ? request.messages : []).filter((m) => m?.role === 'user');
  let prompt = messageText(users[users.length - 1]);
  if (users.length > 1 && REPAIR_REQUEST.test(prompt)) prompt = messageText(users[0]);
  return prompt;
}

/**
 * The local model of the `Summarize` stage (`cdk-ai-pipeline local --model Summarize=local-models/summarizer.ts`):
 * gets the stage's real Converse request and returns the reply text (the summary JSON).
 */
export function handler(request: { messages?: any[] }): string {
  return JSON.stringify(summarizeContract(contractText(promptOf(request))));
}
