import { QuotaStore } from './capacity';
import { ConditionalCheckFailedException, DynamoDBClient, GetItemCommand, UpdateItemCommand } from './dynamodb';
import { BucketState } from '../shared/capacity';

/** The buckets of every quota in one DynamoDB table: an item per quota, `tat_<dimension>` numbers and a version. */
export class DynamoQuotaStore implements QuotaStore {
  constructor(private readonly client: DynamoDBClient, private readonly table: string) {}

  public async read(quotaId: string) {
    const out = await this.client.send(new GetItemCommand({ TableName: this.table, Key: { pk: { S: quotaId } }, ConsistentRead: true }));
    const item = out.Item ?? {};
    const buckets: { [dim: string]: BucketState } = {};
    for (const [k, v] of Object.entries(item)) {
      if (k.startsWith('tat_') && v.N !== undefined) buckets[k.slice(4)] = { tat: Number(v.N) };
    }
    return { version: item.v?.N !== undefined ? Number(item.v.N) : 0, buckets };
  }

  public async write(quotaId: string, version: number, buckets: { [dim: string]: BucketState }) {
    const names: { [k: string]: string } = { '#v': 'v' };
    const values: { [k: string]: { N: string } } = { ':next': { N: String(version + 1) } };
    const sets = ['#v = :next'];
    Object.entries(buckets).forEach(([dim, b], i) => {
      names[`#d${i}`] = `tat_${dim}`;
      values[`:d${i}`] = { N: String(Math.round(b.tat)) };
      sets.push(`#d${i} = :d${i}`);
    });
    if (version > 0) values[':v'] = { N: String(version) };
    try {
      await this.client.send(new UpdateItemCommand({
        TableName: this.table,
        Key: { pk: { S: quotaId } },
        UpdateExpression: `SET ${sets.join(', ')}`,
        ConditionExpression: version > 0 ? '#v = :v' : 'attribute_not_exists(#v)',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }));
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException || (err as any)?.name === 'ConditionalCheckFailedException') return false;
      throw err;
    }
  }

  public async refund(quotaId: string, ms: { [dim: string]: number }) {
    const names: { [k: string]: string } = { '#v': 'v' };
    const values: { [k: string]: { N: string } } = { ':one': { N: '1' } };
    const adds = ['#v :one'];
    Object.entries(ms).forEach(([dim, v], i) => {
      names[`#d${i}`] = `tat_${dim}`;
      values[`:d${i}`] = { N: String(-Math.round(v)) };
      adds.push(`#d${i} :d${i}`);
    });
    await this.client.send(new UpdateItemCommand({
      TableName: this.table,
      Key: { pk: { S: quotaId } },
      UpdateExpression: `ADD ${adds.join(', ')}`,
      ConditionExpression: 'attribute_exists(#v)',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    })).catch((err) => {
      if ((err as any)?.name !== 'ConditionalCheckFailedException') throw err;
    });
  }
}

