/**
 * The DynamoDB client and the commands the handlers use (quota buckets, run claims), and nothing
 * else. Handlers import them from here, never `require` them: a required module keeps all its
 * exports (every DynamoDB command), while imported ES modules let esbuild keep only these (see
 * "Cold starts" in docs/benchmarks.md). Only the bundles that call DynamoDB carry them (ADR-0034).
 */
export {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
