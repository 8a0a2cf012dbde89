/**
 * Turns the blocks of a Textract document analysis (AnalyzeDocument, GetDocumentAnalysis) into the
 * stage's results: key-value pairs (FORMS), tables (TABLES), query answers (QUERIES) and signatures
 * (SIGNATURES). Pure; confidences are Textract's 0-100 scaled to 0-1, as the other stages report them.
 */
import { Block } from '@aws-sdk/client-textract';
import { TextractQueryConfig } from '../../../shared';

/** A form field: the key's text (without a trailing colon), the value's text (a check box's state for a selection element). */
export interface KeyValue {
  readonly key: string;
  readonly value: string;
  /** The lower of the key's and the value's confidence, 0-1. */
  readonly confidence: number;
  readonly page: number;
}

/** A table: its cells' text by row, then by column (a merged cell's text in each cell it spans). */
export interface AnalyzedTable {
  readonly page: number;
  readonly rows: string[][];
}

/** The answer to a query ('' with confidence 0 when Textract found none). */
export interface QueryAnswer {
  readonly text: string;
  readonly confidence: number;
  /** The page of the answer; absent when there is none. */
  readonly page?: number;
}

/** A signature Textract found. */
export interface Signature {
  readonly page: number;
  readonly confidence: number;
}

/** Everything an analysis found (written whole to `analysis.json`). */
export interface DocumentAnalysis {
  readonly keyValues: KeyValue[];
  readonly tables: AnalyzedTable[];
  /** The best answer per alias: every query's alias is present. */
  readonly queryAnswers: { [alias: string]: QueryAnswer };
  readonly signatures: Signature[];
}

/** Textract's 0-100 as 0-1, three decimals. */
export function unitConfidence(confidence: number | undefined): number {
  return Math.round(Math.max(0, Math.min(100, confidence ?? 0)) * 10) / 1000;
}

/** The analysis found in the blocks; `queries` names the aliases that must be present in the answers. */
export function analyzeBlocks(blocks: readonly Block[], queries: readonly TextractQueryConfig[] = []): DocumentAnalysis {
  const byId = new Map<string, Block>();
  for (const b of blocks) if (b.Id) byId.set(b.Id, b);
  const related = (block: Block, type: string): Block[] => (block.Relationships ?? [])
    .filter((r) => r.Type === type)
    .flatMap((r) => r.Ids ?? [])
    .map((id) => byId.get(id))
    .filter((b): b is Block => b !== undefined);
  const textOf = (block: Block): string => related(block, 'CHILD')
    .map((c) => (c.BlockType === 'SELECTION_ELEMENT' ? c.SelectionStatus ?? '' : c.Text ?? ''))
    .filter((t) => t.length > 0)
    .join(' ');

  const keyValues: KeyValue[] = [];
  const tables: AnalyzedTable[] = [];
  const answers: { [alias: string]: QueryAnswer } = {};
  for (const q of queries) answers[q.alias] = { text: '', confidence: 0 };
  const signatures: Signature[] = [];

  for (const block of blocks) {
    switch (block.BlockType) {
      case 'KEY_VALUE_SET': {
        if (!block.EntityTypes?.includes('KEY')) break;
        const values = related(block, 'VALUE');
        const value = values.map(textOf).filter((t) => t.length > 0).join(' ');
        const confidence = Math.min(block.Confidence ?? 0, ...values.map((v) => v.Confidence ?? 0));
        keyValues.push({ key: textOf(block).replace(/\s*:$/, ''), value, confidence: unitConfidence(confidence), page: block.Page ?? 1 });
        break;
      }
      case 'TABLE': {
        const cells = related(block, 'CHILD').filter((c) => c.BlockType === 'CELL');
        const rowCount = Math.max(0, ...cells.map((c) => (c.RowIndex ?? 1) + (c.RowSpan ?? 1) - 1));
        const colCount = Math.max(0, ...cells.map((c) => (c.ColumnIndex ?? 1) + (c.ColumnSpan ?? 1) - 1));
        const rows = Array.from({ length: rowCount }, () => Array.from({ length: colCount }, () => ''));
        for (const cell of cells) {
          const text = textOf(cell);
          for (let r = 0; r < (cell.RowSpan ?? 1); r++) {
            for (let c = 0; c < (cell.ColumnSpan ?? 1); c++) rows[(cell.RowIndex ?? 1) - 1 + r][(cell.ColumnIndex ?? 1) - 1 + c] = text;
          }
        }
        tables.push({ page: block.Page ?? 1, rows });
        break;
      }
      case 'QUERY': {
        const alias = block.Query?.Alias ?? block.Query?.Text;
        if (alias === undefined) break;
        for (const result of related(block, 'ANSWER')) {
          const answer: QueryAnswer = { text: result.Text ?? '', confidence: unitConfidence(result.Confidence), page: result.Page ?? block.Page ?? 1 };
          const best = answers[alias];
          if (!best || answer.confidence > best.confidence) answers[alias] = answer;
        }
        break;
      }
      case 'SIGNATURE':
        signatures.push({ page: block.Page ?? 1, confidence: unitConfidence(block.Confidence) });
        break;
      default:
        break;
    }
  }
  return { keyValues, tables, queryAnswers: answers, signatures };
}

/**
 * The queries as Textract takes them for a document of `pageCount` pages (absent: unknown, sent as
 * given): page selectors past the last page are dropped or cut to it (Textract rejects a page the
 * document does not have), and a query left with no page is not sent. Its alias is still answered
 * (empty), so the output has every alias.
 */
export function queriesFor(queries: readonly TextractQueryConfig[], pageCount?: number): Array<{ Text: string; Alias: string; Pages?: string[] }> {
  const out: Array<{ Text: string; Alias: string; Pages?: string[] }> = [];
  for (const q of queries) {
    let pages = q.pages;
    if (pageCount !== undefined && pages !== undefined) {
      pages = pages.flatMap((p) => {
        if (p === '*') return [p];
        const [from, to] = p.split('-');
        const first = Number(from);
        if (first > pageCount) return [];
        if (to === undefined) return [p];
        return [to === '*' || Number(to) >= pageCount ? `${first}-*` : p];
      });
      if (pages.length === 0) continue;
    }
    out.push({ Text: q.text, Alias: q.alias, ...(pages ? { Pages: pages } : {}) });
  }
  return out;
}
