/**
 * Floor of the audit recorder's run record: look for an existing run record, read each stage's record
 * for the chain, then one object and one event.
 */
import { audit, readIfExists } from './common';

export async function handler(event: any) {
  const bucket = process.env.AUDIT_BUCKET!;
  await readIfExists(bucket, `runs/${event.runId}.json`);
  const stages = (process.env.STAGE_ORDER ?? '').split(',').filter(Boolean);
  const records = await Promise.all(stages.map((stage) => readIfExists(bucket, `stages/${stage}/${event.runId}.json`)));
  const chain = stages.filter((_, i) => records[i] !== undefined);
  await audit('floor/run.json', { runId: event.runId, chain });
  return {};
}
