import * as s3 from 'aws-cdk-lib/aws-s3';

/** What a Pipeline tells an output when it places it (not part of the API). */
export interface OutputAttachContext {
  readonly pipelineName: string;
  readonly auditBucket: s3.IBucket;
  readonly workingBucket: s3.IBucket;
  /** The schema of `$.results` at the end of the run, from the stages' output contracts. */
  readonly resultsSchema: object;
  readonly stageIds: string[];
}

