/** Lambda entry of the API trigger: builds the clients once and calls the core. */
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { ApiDeps, ApiEnv, handleApiRequest, s3PresignPut } from './api';
import { claimsFromEnv } from './start-run';
import { createLogger } from '../../runtime/logger';
import { Env } from '../../shared';


function required(name: string): string {
  const value = process.env[name];
  if (value === undefined) throw new Error(`environment variable ${name} is not set`);
  return value;
}

const s3 = new S3Client({});
const deps: ApiDeps = {
  sfn: new SFNClient({}),
  s3,
  presignPut: s3PresignPut(s3),
  stateMachineArn: required(Env.STATE_MACHINE_ARN),
  claims: claimsFromEnv(process.env, Env.CLAIM_TABLE, Env.CLAIM_STALE_SECONDS),
  documentBucket: required(ApiEnv.DOCUMENT_BUCKET),
  documentPrefix: required(ApiEnv.DOCUMENT_PREFIX),
  documentSuffixes: JSON.parse(required(ApiEnv.DOCUMENT_SUFFIXES)),
  uploadUrlSeconds: Number(required(ApiEnv.UPLOAD_URL_SECONDS)),
  logger: createLogger('trigger-api'),
};

export const handler = (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => handleApiRequest(deps, event);
