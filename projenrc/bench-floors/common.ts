/**
 * What every floor shares: the calls a stage makes around its model call (read an object, write a
 * JSON object, put an audit event), with the same SDK clients and commands as the handlers and
 * nothing else: no validation, no logger, no screening.
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';

export const s3 = new S3Client({});
export const events = new EventBridgeClient({});

export async function read(bucket: string, key: string, range?: string): Promise<Uint8Array> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: range }));
  return out.Body!.transformToByteArray();
}

export async function put(bucket: string, key: string, body: unknown): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: JSON.stringify(body), ContentType: 'application/json' }));
}

/** The audit record of a stage or a run: one object and one event, as AuditWriter writes them. */
export async function audit(key: string, record: unknown): Promise<void> {
  await put(process.env.AUDIT_BUCKET!, key, record);
  await events.send(new PutEventsCommand({
    Entries: [{ Source: 'floor', DetailType: 'floor', EventBusName: process.env.AUDIT_BUS, Detail: JSON.stringify({ key }) }],
  }));
}
