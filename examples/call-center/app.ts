#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { CallCenterStack } from './lib/call-center-stack';

const app = new App();

new CallCenterStack(app, 'CallCenter', {
  description: 'Call center: transcription, sentiment and entities, a drafted reply an agent approves (cdk-ai-pipeline example)',
  // The account and region the CLI resolves from your credentials; placeholders otherwise, so
  // `cdk synth` works offline. Deploy with real credentials (or set CDK_DEFAULT_ACCOUNT/REGION).
  env: {
    account: process.env.CDK_DEFAULT_ACCOUNT ?? '111111111111',
    region: process.env.CDK_DEFAULT_REGION ?? 'us-east-1',
  },
});
