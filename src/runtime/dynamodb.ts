/**
 * The DynamoDB client and the commands the handlers use (quota buckets, run claims), and nothing
 * else. Handlers load this module on first need, with `require`: a required module keeps all its
 * exports, so requiring `@aws-sdk/client-dynamodb` itself would bundle every DynamoDB command. This
 * narrow list lets esbuild keep only these (see "Cold starts" in docs/benchmarks.md).
 */
export {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
