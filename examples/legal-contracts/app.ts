#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { LegalContractsStack } from './lib/legal-contracts-stack';

const app = new App();

// `cdk synth -c privateNetwork=true`: the functions in private isolated subnets of a VPC of the stack's own.
const privateNetwork = [true, 'true'].includes(app.node.tryGetContext('privateNetwork'));

new LegalContractsStack(app, 'LegalContractIntake', {
  privateNetwork,
  description: 'Legal contract intake: OCR, classification, risk summary and routing of uploaded contracts (cdk-ai-pipeline example)',
  // The account and region the CLI resolves from your credentials; placeholders otherwise, so
  // `cdk synth` works offline. Deploy with real credentials (or set CDK_DEFAULT_ACCOUNT/REGION).
  env: {
    account: process.env.CDK_DEFAULT_ACCOUNT ?? '111111111111',
    region: process.env.CDK_DEFAULT_REGION ?? 'us-east-1',
  },
});
