import { Block } from '@aws-sdk/client-textract';
import { ErrorNames, ExtractedText, PipelineError } from '../../../shared';

/**
 * Builds the stage's text from Textract blocks: the LINE blocks of each page (`Page`, 1 when
 * absent), in the order Textract returned them, joined with '\n'. Every page from 1 to the
 * document's page count is present, blank pages with '' (so page numbers stay those of the
 * document). Throws `Document.NoText` when the whole document has no LINE block.
 */
export function blocksToText(blocks: readonly Block[], pageCount = 1): ExtractedText {
  const lines = new Map<number, string[]>();
  let total = 0;
  for (const block of blocks) {
    if (block.BlockType !== 'LINE') continue;
    const page = block.Page ?? 1;
    const text = block.Text ?? '';
    const list = lines.get(page);
    if (list) list.push(text);
    else lines.set(page, [text]);
    total++;
  }
  if (total === 0) {
    throw new PipelineError(ErrorNames.DOCUMENT_NO_TEXT, 'Textract found no line of text in the document');
  }
  const last = Math.max(pageCount, ...lines.keys());
  const pages: Array<{ page: number; text: string }> = [];
  for (let page = 1; page <= last; page++) {
    pages.push({ page, text: (lines.get(page) ?? []).join('\n') });
  }
  return { pages };
}

/** Number of LINE blocks (for logs: a count, never the text). */
export function lineCount(blocks: readonly Block[]): number {
  return blocks.filter((b) => b.BlockType === 'LINE').length;
}
