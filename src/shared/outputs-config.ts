/** Shared by the output constructs and their handler: the handler's environment and the synth-time config. */

/** Environment variables of the output handler. */
export const OutputEnv = {
  /** JSON `OutputConfig` (no tokens). */
  CONFIG: 'OUTPUT_CONFIG',
  RESULTS_BUCKET: 'RESULTS_BUCKET',
  AUDIT_BUCKET: 'AUDIT_BUCKET',
  /** `https://...` endpoint of the collection or domain. */
  OPENSEARCH_ENDPOINT: 'OPENSEARCH_ENDPOINT',
  /** SQS: the queue's URL. */
  QUEUE_URL: 'QUEUE_URL',
} as const;

/** What the construct tells its handler (synth-time values only). */
export interface OutputConfig {
  readonly kind: 's3' | 'opensearch' | 'sqs';
  /** The output's id: its state name and its key under `$.outputs`. */
  readonly output: string;
  readonly pipeline: string;
  /** Stage ids, in order (for the audit pointers). */
  readonly stages: string[];
  /** S3: results go under `<prefix><pipeline>/<runId>.json`. */
  readonly prefix?: string;
  /** OpenSearch: the index, the fields (dotted paths under results), the create-index body. */
  readonly index?: string;
  readonly fields?: string[];
  readonly indexBody?: object;
  /** SigV4 service name: 'aoss' (Serverless) or 'es' (a domain). */
  readonly service?: 'aoss' | 'es';
  /** Index under the run id (PUT /_doc/<runId>, idempotent); false where the store refuses custom ids. */
  readonly customIds?: boolean;
  readonly embedding?: { readonly modelId: string; readonly dimension: number; readonly textFrom: string; readonly maxChars: number };
  /** SQS: send only this dotted path under results (`Draft.reply`); absent: the whole result document. */
  readonly field?: string;
  /**
   * SQS: send only runs a human review approved (or corrected); a corrected value of `field` (the
   * reviewed stage's field, at `results.<review>.corrections.<name>`) replaces the stage's own.
   */
  readonly approvedBy?: { readonly review: string; readonly stage: string };
  /** SQS: the queue is FIFO (group: the pipeline, deduplication: the run id). */
  readonly fifo?: boolean;
}
