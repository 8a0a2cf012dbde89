/**
 * The decision contract of a human review, shared by the construct (which generates validators from
 * it at synth time and declares what a review leaves at `$.results.<review>`) and the decision API's
 * handler (which validates each request with those validators). No AWS SDK here.
 */

/** The decisions a reviewer can make. */
export const REVIEW_DECISIONS = ['approve', 'reject', 'correct'] as const;

/** Longest comment a reviewer may leave, in characters. */
export const MAX_COMMENT_CHARS = 2000;

/** Largest request body the decision API accepts, in bytes (the decision travels in the run's state). */
export const MAX_DECISION_BYTES = 64 * 1024;

/**
 * The body of a decision request. The reviewer is NOT a field: it is the caller's IAM identity,
 * taken from the signed request. Cross-field rules (corrections only with `correct`) are checked in
 * code so the 400 names the field.
 */
export function decisionRequestSchema(): { [key: string]: any } {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'ReviewDecisionRequest',
    type: 'object',
    required: ['taskToken', 'decision'],
    additionalProperties: false,
    properties: {
      taskToken: { type: 'string', minLength: 1, maxLength: 1024 },
      decision: { enum: [...REVIEW_DECISIONS] },
      comment: { type: 'string', maxLength: MAX_COMMENT_CHARS },
      corrections: { type: 'object', minProperties: 1 },
    },
  };
}

/**
 * Corrections to the reviewed stage's result: its output contract with no field required (a reviewer
 * corrects some fields, not all), at least one field, and the contract's own types, enums and limits.
 */
export function correctionsSchema(outputSchema: { [key: string]: any }): { [key: string]: any } {
  const { required: _required, $id: _id, title: _title, ...rest } = outputSchema;
  return { ...rest, type: 'object', minProperties: 1 };
}

/**
 * What a review leaves at `$.results.<review>` for the steps after it. A rejected run ends at its
 * destination, so later steps only see `approve` or `correct`; `corrections` only with `correct`.
 */
export function reviewResultSchema(corrections: { [key: string]: any }): { [key: string]: any } {
  return {
    type: 'object',
    required: ['decision', 'reviewer', 'decidedAt', 'taskTokenSha256'],
    properties: {
      decision: { enum: ['approve', 'correct'] },
      reviewer: { type: 'string' },
      decidedAt: { type: 'string', format: 'date-time' },
      comment: { type: 'string', maxLength: MAX_COMMENT_CHARS },
      corrections,
      taskTokenSha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
      record: { type: 'object', required: ['bucket', 'key'], properties: { bucket: { type: 'string' }, key: { type: 'string' } } },
    },
  };
}
