/** Lambda entry of a human review's decision API: builds the clients once, reads the environment, calls the core. */
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import { DecisionDeps, DecisionValidators, handleDecisionRequest } from './decision';
import { loadValidators } from '../../runtime/contracts';
import { requireEnv } from '../../runtime/environment';
import { createLogger } from '../../runtime/logger';
import { Env } from '../../shared';

const deps: DecisionDeps = {
  sfn: new SFNClient({}),
  s3: new S3Client({}),
  events: new EventBridgeClient({}),
  review: requireEnv(Env.REVIEW_STEPS),
  pipeline: requireEnv(Env.PIPELINE_NAME),
  auditBucket: requireEnv(Env.AUDIT_BUCKET),
  auditBus: requireEnv(Env.AUDIT_BUS),
  validators: loadValidators(__dirname) as unknown as DecisionValidators,
  logger: createLogger('review-decision'),
};

export const handler = (event: LambdaFunctionURLEvent) => handleDecisionRequest(deps, event);
