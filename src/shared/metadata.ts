/**
 * Template metadata the constructs write for tools that run a pipeline from its synthesized template
 * (the local runner). Shared by the constructs (writers) and the CLI (reader).
 */

/** On a stage's handler function: `{ version, id, kind }`. */
export const STAGE_METADATA = 'cdk-ai-pipeline-stage';
/** On the handler function of a stage no Pipeline attached: where it reads documents. */
export const STANDALONE_METADATA = 'cdk-ai-pipeline-standalone';

/** The value of `STAGE_METADATA`. */
export interface StageMetadata {
  readonly version: number;
  readonly id: string;
  readonly kind: string;
}

/** The value of `STANDALONE_METADATA` (bucket name resolved by the reader). */
export interface StandaloneMetadata {
  readonly pipeline: string;
  readonly documentBucket: unknown;
  readonly documentPrefix: string;
}
