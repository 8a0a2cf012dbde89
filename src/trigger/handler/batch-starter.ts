/**
 * Core of the schedule trigger's batch starter: one Distributed Map batch of S3 objects (as the map's
 * S3 ListObjectsV2 reader lists them) → one run per document not yet run, through the shared start core.
 *
 * "Not yet run" needs no bookkeeping: each document is read (HeadObject) for its current version and
 * started under the same deterministic name the upload trigger would give it, so a document already
 * run is refused by Step Functions (`ExecutionAlreadyExists`) and counted as skipped. Keys outside the
 * prefix/suffix filter and folder markers are ignored. Other errors are thrown: the map retries the
 * batch, and starting a batch twice starts nothing twice.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { headDocument, keyAccepted, startRun, StartRunDeps } from './start-run';

import { BatchEnv } from '../../shared/trigger-env';

export { BatchEnv };

export interface BatchStarterDeps extends StartRunDeps {
  readonly s3: S3Client;
  readonly documentBucket: string;
  readonly documentPrefix: string;
  readonly documentSuffixes: readonly string[];
}

/** One listed object, as the Distributed Map's S3 objects reader gives it. */
export interface ListedObject {
  readonly Key: string;
  readonly ETag?: string;
  readonly Size?: number;
}

/** A batch as the map's ItemBatcher hands it to the task. */
export interface ObjectBatch {
  readonly Items: ListedObject[];
}

/** What a batch did; small, so the map's results stay small. */
export interface BatchCounts {
  readonly started: number;
  /** Already run (an execution with the document's name exists). */
  readonly skipped: number;
  /** Not a document of this pipeline (prefix, suffix, folder marker). */
  readonly ignored: number;
  /** Deleted between the listing and the start. */
  readonly gone: number;
  /**
   * Express only: claimed by another starter and not started yet; the next batch starts it if that
   * starter died (its claim is then stale).
   */
  readonly pending: number;
}

export async function startBatch(deps: BatchStarterDeps, batch: ObjectBatch): Promise<BatchCounts> {
  let started = 0;
  let skipped = 0;
  let ignored = 0;
  let gone = 0;
  let pending = 0;
  for (const item of batch.Items ?? []) {
    const key = item?.Key;
    if (typeof key !== 'string' || key.endsWith('/') || !keyAccepted(key, deps.documentPrefix, deps.documentSuffixes)) {
      ignored++;
      continue;
    }
    const document = await headDocument(deps.s3, deps.documentBucket, key);
    if (!document) {
      gone++;
      continue;
    }
    const out = await startRun(deps, document);
    if (out.started) started++;
    else if (out.pending) pending++;
    else skipped++;
  }
  deps.logger.info('batch done', { started, skipped, ignored, gone, pending });
  return { started, skipped, ignored, gone, pending };
}
