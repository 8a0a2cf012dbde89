#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { FraudScreeningStack } from './lib/fraud-screening-stack';

const app = new App();

new FraudScreeningStack(app, 'FraudScreening', {
  description: 'Fraud screening: transactions through an API, rule checks, an ML fraud score, escalation and a search index (cdk-ai-pipeline example)',
  // The account and region the CLI resolves from your credentials; placeholders otherwise, so
  // `cdk synth` works offline.
  env: {
    account: process.env.CDK_DEFAULT_ACCOUNT ?? '111111111111',
    region: process.env.CDK_DEFAULT_REGION ?? 'us-east-1',
  },
});
