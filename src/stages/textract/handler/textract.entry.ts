/**
 * Lambda entry of the Textract stage: builds the SDK clients once per container, reads the
 * environment and the stage's synth-time files (`stage-config.json`, `validators.js`) beside the
 * bundle, and hands every event to the pure core.
 */
import * as fs from 'fs';
import * as path from 'path';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { TextractClient } from '@aws-sdk/client-textract';
import type { SNSEvent } from 'aws-lambda';
import { handleTextractEvent, TextractHandlerDeps } from './textract';
import { loadValidators } from '../../../runtime/contracts';
import { capacityFromEnv, requireEnv } from '../../../runtime/environment';
import { createLogger } from '../../../runtime/logger';
import { Env, StageAssetFiles, StageInvocation, TextractStageConfig } from '../../../shared';

const config: TextractStageConfig = JSON.parse(fs.readFileSync(path.join(__dirname, StageAssetFiles.CONFIG), 'utf8'));

const deps: TextractHandlerDeps = {
  s3: new S3Client({}),
  textract: new TextractClient({}),
  sfn: new SFNClient({}),
  events: new EventBridgeClient({}),
  validators: loadValidators(__dirname),
  config,
  env: {
    pipeline: requireEnv(Env.PIPELINE_NAME),
    workBucket: requireEnv(Env.WORK_BUCKET),
    auditBucket: requireEnv(Env.AUDIT_BUCKET),
    auditBus: requireEnv(Env.AUDIT_BUS),
    topicArn: requireEnv(Env.TEXTRACT_TOPIC_ARN),
    roleArn: requireEnv(Env.TEXTRACT_ROLE_ARN),
  },
  logger: createLogger(`textract-${config.stage}`),
  capacity: capacityFromEnv(config.stage),
};

export const handler = (event: StageInvocation | SNSEvent) => handleTextractEvent(deps, event);
