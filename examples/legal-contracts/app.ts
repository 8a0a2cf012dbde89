#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { LegalContractsStack } from './lib/legal-contracts-stack';

const app = new App();

new LegalContractsStack(app, 'LegalContractIntake', {
  description: 'Legal contract intake: OCR, classification, risk summary and routing of uploaded contracts (cdk-ai-pipeline example)',
  // The account and region the CLI resolves from your credentials; placeholders otherwise, so
  // `cdk synth` works offline. Deploy with real credentials (or set CDK_DEFAULT_ACCOUNT/REGION).
  env: {
    account: process.env.CDK_DEFAULT_ACCOUNT ?? '111111111111',
    region: process.env.CDK_DEFAULT_REGION ?? 'us-east-1',
  },
});
