/**
 * What the ChunkedStage construct and its split/keep/reduce handler share. No AWS SDK imports:
 * the construct depends on this module.
 */

/** The reducers a ChunkedStage can apply to one field of the per-chunk results. */
export type ReducerName = 'concatenate' | 'max' | 'min' | 'sum' | 'union' | 'any' | 'all' | 'first' | 'merge';

/** The static configuration of the chunk function, written beside its bundle at synth time. */
export interface ChunksConfig {
  /** The ChunkedStage's state name: its key for the chunk under `results` and its working prefix. */
  readonly step: string;
  /** The stage that runs per chunk (its result lands at `results.<stage>`). */
  readonly stage: string;
  /** How the text is cut. */
  readonly unit: 'pages' | 'tokens';
  /** Pages per chunk, or the token budget of a chunk. */
  readonly size: number;
  /** Characters counted as one token (a budget in tokens becomes `size * charsPerToken` characters). */
  readonly charsPerToken: number;
  /** Most chunks a document may have (Document.TooLarge above). */
  readonly maxChunks: number;
  /**
   * Most chunks listed inline in the state; above it the list goes to S3 and a Distributed Map reads
   * it. 0: never distributed.
   */
  readonly inlineMax: number;
  /** The reducer of each output field; with a Lambda reducer, only the fields the stage kind adds itself (they win over the function's). */
  readonly reducers: { readonly [field: string]: ReducerName };
  /** True when the user's function reduces (its name in the environment, see `ChunkEnv`). */
  readonly lambda: boolean;
  /** Put between two concatenated strings. */
  readonly separator: string;
}

/** Environment variables of the chunk function set when the pipeline attaches the step. */
export const ChunkEnv = {
  /** The stage whose `text` pointer is split. */
  SOURCE_STAGE: 'CHUNK_SOURCE_STAGE',
  /** The user's reducer function, when a Lambda reduces. */
  REDUCER_FUNCTION: 'CHUNK_REDUCER_FUNCTION',
} as const;

/** What the chunk function is asked to do. */
export const ChunkActions = { SPLIT: 'split', KEEP: 'keep', REDUCE: 'reduce' } as const;

/** The key layout under the step's own prefix `stages/<step>/<runId>/`. */
export const ChunkKeys = {
  text: (index: number) => `chunks/${String(index).padStart(5, '0')}.json`,
  result: (index: number) => `results/${String(index).padStart(5, '0')}.json`,
  manifest: 'chunks.json',
  reduced: (field: string) => `reduced/${field}.json`,
} as const;

/** What the split returns at `$.chunking`. */
export interface SplitOutput {
  readonly count: number;
  /** The iteration items, when `count <= inlineMax` (or inlineMax is 0). */
  readonly items?: ChunkItem[];
  /** The items as a JSON array in S3, when the Distributed Map reads them. */
  readonly manifest?: { readonly bucket: string; readonly key: string };
}

/** One iteration item: merged into `results`, so the chunk is the latest `text` pointer the stage sees. */
export interface ChunkItem {
  readonly [step: string]: ChunkRef;
}

/** The chunk as the stage sees it at `results.<step>`. */
export interface ChunkRef {
  readonly text: { readonly bucket: string; readonly key: string; readonly versionId?: string; readonly sha256?: string };
  readonly index: number;
  readonly count: number;
  /** First and last page of the chunk (1-based). */
  readonly pages: { readonly first: number; readonly last: number };
  /** Where the keep action stores the stage's result for this chunk. */
  readonly resultKey: string;
}

/** The stage-shaped identity of the chunk function (its audit records carry the step's name and kind `chunks`). */
export function chunkStageConfig(config: ChunksConfig): { stage: string; kind: any } {
  return { stage: config.step, kind: 'chunks' };
}

/** The shape of a chunk at `results.<step>` as the stage sees it (for the stage's input check at synth). */
export const CHUNK_REF_SCHEMA = {
  type: 'object',
  required: ['text', 'index', 'count', 'pages', 'resultKey'],
  properties: {
    text: { type: 'object', required: ['bucket', 'key'], properties: { bucket: { type: 'string' }, key: { type: 'string' }, versionId: { type: 'string' }, sha256: { type: 'string' } } },
    index: { type: 'integer', minimum: 0 },
    count: { type: 'integer', minimum: 1 },
    pages: { type: 'object', required: ['first', 'last'], properties: { first: { type: 'integer' }, last: { type: 'integer' } } },
    resultKey: { type: 'string' },
  },
};
