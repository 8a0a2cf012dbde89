/**
 * The capacity control's pure core: a token bucket per quota dimension, kept as a GCRA "theoretical
 * arrival time" (one number per dimension). The Lambda handlers, the local runner and the simulation
 * (`npm run bench`) all run this same code; only where the numbers are stored differs.
 */

/** The error a stage handler raises when its quota has no capacity now. The state machine retries it. */
export const CAPACITY_WAIT = 'Capacity.Wait';

/** The CloudWatch namespace of the capacity control's metrics (dimension `Quota`). */
export const CAPACITY_NAMESPACE = 'cdk-ai-pipeline/Capacity';

/**
 * The services' throttling errors, as the SDK names them: with a quota, a stage retries these until
 * the quota's `maxWait` rather than a fixed number of times (they mean "wait", not "broken").
 */
export const THROTTLING_ERROR_NAMES: readonly string[] = [
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'LimitExceededException',
  'TooManyRequestsException',
];

/** Environment variables of a stage handler whose stage has a `quota`. */
export const CAPACITY_ENV = {
  /** The DynamoDB table holding the quota's buckets. */
  TABLE: 'CAPACITY_TABLE',
  /** The quota's id (the item key) and its dimensions as JSON (`QuotaConfig`). */
  QUOTA: 'CAPACITY_QUOTA',
} as const;

/** One dimension of a quota: requests per second, tokens per second, ... */
export interface QuotaDimension {
  /** Its name: `requests`, `tokens`, `DetectDocumentText`, ... */
  readonly name: string;
  /** Units the control grants per second (the quota times the utilization target). */
  readonly ratePerSecond: number;
  /** The most units granted at once after an idle time (the bucket's size). */
  readonly burst: number;
}

/** A quota as the handler sees it (written by the construct into the environment). */
export interface QuotaConfig {
  /** Unique per quota in the table. */
  readonly id: string;
  readonly dimensions: readonly QuotaDimension[];
}

/** The state of one dimension's bucket: when the bucket will be full again (ms since the epoch). */
export interface BucketState {
  /** Theoretical arrival time: `now` or earlier means the bucket is full. */
  readonly tat: number;
}

/** The answer for one dimension. */
export interface BucketDecision {
  readonly granted: boolean;
  /** The state to store when granted. */
  readonly tat: number;
  /** When refused: the earliest time the request could be granted, in ms from now. */
  readonly waitMs: number;
}

/**
 * GCRA: a request of `cost` units is granted when, after it, the bucket would not be emptier than empty.
 * A cost larger than the bucket is charged as the whole bucket (it goes through when the bucket is full),
 * so no request waits forever.
 */
export function decide(state: BucketState | undefined, dim: QuotaDimension, cost: number, nowMs: number): BucketDecision {
  const perUnit = 1000 / dim.ratePerSecond;
  const units = Math.min(Math.max(cost, 0), dim.burst);
  const tat = Math.max(state?.tat ?? 0, nowMs) + units * perUnit;
  const allowance = dim.burst * perUnit;
  const over = tat - nowMs - allowance;
  return over <= 0 ? { granted: true, tat, waitMs: 0 } : { granted: false, tat: state?.tat ?? 0, waitMs: over };
}

/** The state after giving `units` back (a reservation larger than what the call used). */
export function refund(state: BucketState, dim: QuotaDimension, units: number): BucketState {
  return { tat: state.tat - Math.max(units, 0) * (1000 / dim.ratePerSecond) };
}

/** The units a call costs on each dimension of its quota; dimensions not named cost nothing. */
export interface CapacityCost {
  readonly [dimension: string]: number;
}

/**
 * Tokens Bedrock counts against the tokens-per-minute quota at the start of a call: the input
 * (estimated at 4 characters per token, rounded up) plus `maxTokens`. Bedrock settles to the real
 * count when the call ends; the handler gives the difference back.
 */
export function bedrockReservation(promptChars: number, maxTokens: number): number {
  return Math.ceil(promptChars / 4) + maxTokens;
}
