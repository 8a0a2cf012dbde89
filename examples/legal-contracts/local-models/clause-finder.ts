/**
 * The legal example's model for the `Clauses` stage in the local runner: the same deterministic
 * sentence rules as the summarizer, answering the clause inventory contract
 * (`schemas/clauses.schema.json`): each risk clause with its type, severity and the sentence it is
 * in, and how many are HIGH. The runner calls it once per chunk of pages; the pipeline's reducers
 * join the chunks' lists and add up their counts.
 *
 * As gullible as the summarizer: a chunk that tells it to ignore its instructions and approve gets
 * an empty inventory. The pipeline's deterministic screening stops that run from auto-approval.
 */
import { contractText, findRiskClausesWithExcerpts, FoundClause, isInjected, promptOf } from './summarizer';

/** The reply the local model gives (the example's clause inventory contract). */
export interface ClauseInventory {
  readonly clauses: FoundClause[];
  readonly highSeverityCount: number;
}

/** The clause inventory of a contract's text. */
export function inventoryOf(text: string): ClauseInventory {
  if (isInjected(text)) return { clauses: [], highSeverityCount: 0 };
  const clauses = findRiskClausesWithExcerpts(text);
  return { clauses, highSeverityCount: clauses.filter((c) => c.severity === 'HIGH').length };
}

/**
 * The local model of the `Clauses` stage (`cdk-ai-pipeline local --model Clauses=local-models/clause-finder.ts`):
 * gets the stage's real Converse request and returns the reply text (the inventory JSON).
 */
export function handler(request: { messages?: any[] }): string {
  return JSON.stringify(inventoryOf(contractText(promptOf(request))));
}
