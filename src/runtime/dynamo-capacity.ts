/**
 * The capacity control's store in Lambda: the quota's token buckets in DynamoDB. Loaded for its
 * effect, and only by the handler entries of a stage given a quota (`<kind>-quota.entry.ts`), so the
 * DynamoDB client is bundled and loaded by no other handler (ADR-0034).
 */
import { DynamoQuotaStore } from './dynamo-quota-store';
import { DynamoDBClient } from './dynamodb';
import { useQuotaStore } from './environment';

// Two attempts at most: a lost conditional write is re-read by the control, and a DynamoDB error
// fails the stage's attempt, which its task retries.
useQuotaStore((table) => new DynamoQuotaStore(new DynamoDBClient({ maxAttempts: 2 }), table));
