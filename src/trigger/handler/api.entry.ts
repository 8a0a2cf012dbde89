/** Lambda entry of the API trigger: builds the clients once and calls the core. */
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { ApiDeps, ApiEnv, handleApiRequest } from './api';
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
  presignPut: (bucket, key, seconds) => getSignedUrl(s3, new PutObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: seconds }),
  stateMachineArn: required(Env.STATE_MACHINE_ARN),
  documentBucket: required(ApiEnv.DOCUMENT_BUCKET),
  documentPrefix: required(ApiEnv.DOCUMENT_PREFIX),
  documentSuffixes: JSON.parse(required(ApiEnv.DOCUMENT_SUFFIXES)),
  uploadUrlSeconds: Number(required(ApiEnv.UPLOAD_URL_SECONDS)),
  logger: createLogger('trigger-api'),
};

export const handler = (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => handleApiRequest(deps, event);
