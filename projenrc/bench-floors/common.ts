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

/**
 * A stage's audit: its content objects (input view, output, and for model stages the prompt and the
 * reply), then the record and its event, as AuditWriter.stage writes them: the same number of calls.
 */
export async function auditStage(key: string, contents: unknown[], record: unknown): Promise<void> {
  for (const [i, content] of contents.entries()) await put(process.env.AUDIT_BUCKET!, `${key}.content-${i}.json`, content);
  await audit(key, record);
}

/** An object's bytes, or undefined when it does not exist (404). */
export async function readIfExists(bucket: string, key: string): Promise<Uint8Array | undefined> {
  try {
    return await read(bucket, key);
  } catch (err: any) {
    if (err?.$metadata?.httpStatusCode === 404 || err?.name === 'NoSuchKey') return undefined;
    throw err;
  }
}

/** The audit record of a stage or a run: one object and one event, as AuditWriter writes them. */
export async function audit(key: string, record: unknown): Promise<void> {
  await put(process.env.AUDIT_BUCKET!, key, record);
  await events.send(new PutEventsCommand({
    Entries: [{ Source: 'floor', DetailType: 'floor', EventBusName: process.env.AUDIT_BUS, Detail: JSON.stringify({ key }) }],
  }));
}
