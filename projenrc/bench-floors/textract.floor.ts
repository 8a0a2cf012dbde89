/** Floor of the Textract handler's sync path: HeadObject, two GetObjects, DetectDocumentText, text + audit, task success. */
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { DetectDocumentTextCommand, TextractClient } from '@aws-sdk/client-textract';
import { auditStage, put, read, s3 } from './common';

const textract = new TextractClient({});
const sfn = new SFNClient({});

export async function handler(event: any) {
  const { bucket, key } = event.state.document;
  await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  await read(bucket, key, 'bytes=0-7');
  await read(bucket, key);
  const out = await textract.send(new DetectDocumentTextCommand({ Document: { S3Object: { Bucket: bucket, Name: key } } }));
  const text = (out.Blocks ?? []).filter((b) => b.BlockType === 'LINE').map((b) => b.Text).join('\n');
  await put(process.env.WORK_BUCKET!, 'floor/text.json', { pages: [{ page: 1, text }] });
  // Input view and output, as the handler keeps them (issue 12).
  await auditStage('floor/audit.json', [event.state, { text }], { runId: event.runId });
  await sfn.send(new SendTaskSuccessCommand({ taskToken: event.taskToken, output: '{}' }));
  return {};
}
