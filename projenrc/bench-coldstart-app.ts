/**
 * The app the cold-start benchmark synthesizes for real stage assets (bundle, `stage-config.json`,
 * `validators.js`): the legal-contracts example (Textract, SageMaker, Bedrock stages, trigger,
 * recorder) and a one-stage pipeline around a Lambda function of one's own. Run from the
 * repository root: `node -r ts-node/register/transpile-only projenrc/bench-coldstart-app.ts <outdir>`.
 */
import { App, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
// The package itself, as the example imports it (the bench task links node_modules/cdk-ai-pipeline to the build).
// It is not a dependency and resolves only once the bench task has linked it, hence the two rules off here.
// eslint-disable-next-line import/no-extraneous-dependencies, import/no-unresolved
import { DocumentTrigger, InferenceStage, Pipeline } from 'cdk-ai-pipeline';
import { LegalContractsStack } from '../examples/legal-contracts/lib/legal-contracts-stack';

process.env.CDK_VALIDATION = 'false';
const env = { account: '111111111111', region: 'us-east-1' };
const app = new App({ outdir: process.argv[2] });
new LegalContractsStack(app, 'LegalContractIntake', { env });
const proxy = new Stack(app, 'LambdaProxy', { env });
new Pipeline(proxy, 'Pipeline', {
  trigger: DocumentTrigger.s3Upload(proxy, 'Upload', {}),
  stages: [InferenceStage.lambda(proxy, 'Enrich', {
    function: lambda.Function.fromFunctionArn(proxy, 'Fn', 'arn:aws:lambda:us-east-1:111111111111:function:enrich'),
  })],
});
app.synth();
