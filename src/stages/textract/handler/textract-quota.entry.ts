/**
 * Lambda entry of a Textract stage given a `quota`: the stage's handler, with the capacity control's
 * DynamoDB store loaded first. A stage without a quota runs `textract.entry.ts`, whose bundle has no
 * DynamoDB client (ADR-0034).
 */
import '../../../runtime/dynamo-capacity';
export { handler } from './textract.entry';
