/** Shared by the trigger constructs and the start core: the run-claim table of an Express pipeline (ADR-0029). */

/** Attribute names of a run claim. */
export const CLAIM_ATTRIBUTES = {
  /** The partition key: the execution name (the run id). */
  RUN_ID: 'runId',
  /** TTL attribute (epoch seconds): a claim is kept as long as Step Functions keeps a Standard execution's name. */
  EXPIRES_AT: 'expiresAt',
} as const;

/** How long a claim is kept: 90 days, as long as Step Functions keeps the name of a closed Standard execution. */
export const CLAIM_RETENTION_SECONDS = 90 * 24 * 3600;

/**
 * The Step Functions execution log events an Express pipeline's backstop subscribes to (ADR-0031), and the
 * execution status each one means (the statuses EventBridge reports for a Standard pipeline's backstop).
 */
export const EXPRESS_BACKSTOP_EVENTS: { readonly [type: string]: string } = {
  ExecutionFailed: 'FAILED',
  ExecutionTimedOut: 'TIMED_OUT',
  ExecutionAborted: 'ABORTED',
};
