import { PutEventsCommand, EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { writeJson } from './s3';
import { AUDIT_EVENT_SOURCE, AuditEventTypes, AuditRecord, Keys, S3Pointer } from '../shared';

/** Where audit records and events go. */
export interface AuditTarget {
  readonly bucket: string;
  readonly busName: string;
}

/** Writes audit records to the audit bucket and puts the matching event on the audit bus. */
export class AuditWriter {
  constructor(private readonly s3: S3Client, private readonly events: EventBridgeClient, private readonly target: AuditTarget) {}

  /** The record of one stage execution, under the stage's own prefix. */
  public async stage(record: AuditRecord): Promise<S3Pointer> {
    const key = Keys.stageAudit(record.stage!, record.runId);
    const type = record.outcome === 'SUCCEEDED' ? AuditEventTypes.STAGE_SUCCEEDED : AuditEventTypes.STAGE_FAILED;
    return this.write(key, record, type);
  }

  /** The record of a whole run. */
  public async run(record: AuditRecord): Promise<S3Pointer> {
    const type = record.outcome === 'SUCCEEDED' ? AuditEventTypes.RUN_SUCCEEDED : AuditEventTypes.RUN_FAILED;
    return this.write(Keys.runAudit(record.runId), record, type);
  }

  private async write(key: string, record: AuditRecord, detailType: string): Promise<S3Pointer> {
    const pointer = await writeJson(this.s3, this.target.bucket, key, record);
    await this.events.send(new PutEventsCommand({
      Entries: [{
        Source: AUDIT_EVENT_SOURCE,
        DetailType: detailType,
        EventBusName: this.target.busName,
        Detail: JSON.stringify({ record: pointer, ...summary(record) }),
      }],
    }));
    return pointer;
  }
}

/** The fields of a record that are safe and useful in an event (no payloads). */
function summary(r: AuditRecord) {
  return {
    runId: r.runId,
    pipeline: r.pipeline,
    stage: r.stage,
    outcome: r.outcome,
    errorName: r.errorName,
    route: r.route,
  };
}
