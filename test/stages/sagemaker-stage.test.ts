import * as fs from 'fs';
import * as path from 'path';
import { Duration, Stack, Token } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { StageContract } from '../../src/contracts/stage-contract';
import { loadValidatorsSource } from '../../src/runtime/contracts';
import { InferenceStage, StageKind } from '../../src/stages/inference-stage';
import { SageMakerEndpointStage } from '../../src/stages/sagemaker/sagemaker-stage';
import {
  attachStage, newAttachment, newStack, roleStatements, stageAssetDir, stateMachineOf, statementsWith,
} from '../helpers/construct-test-kit';

const CLASSIFICATION = {
  type: 'object',
  required: ['documentType', 'confidence'],
  properties: { documentType: { type: 'string', enum: ['NDA', 'MSA', 'SOW', 'EMPLOYMENT', 'OTHER'] }, confidence: { type: 'number' } },
};
const endpointArn = (name: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:sagemaker:us-east-1:123456789012:endpoint/${name}`]] });

function invokeEndpoint(stage: SageMakerEndpointStage): any[] {
  const stack = Stack.of(stage);
  attachStage(stage, newAttachment(stack));
  return statementsWith(roleStatements(Template.fromStack(stack), stage.role), 'sagemaker:InvokeEndpoint');
}

describe('SageMakerEndpointStage', () => {
  let stack: Stack;
  let stage: SageMakerEndpointStage;
  let template: Template;
  let asl: any;

  beforeAll(() => {
    stack = newStack({ withEnv: true });
    stage = InferenceStage.sagemakerEndpoint(stack, 'Classify', {
      endpointName: 'contract-classifier',
      output: StageContract.fromObject(CLASSIFICATION),
      timeout: Duration.seconds(90),
    });
    attachStage(stage, newAttachment(stack));
    asl = stateMachineOf(stage).asl;
    template = Template.fromStack(stack);
  });

  test('kind, endpoint and the text alias', () => {
    expect(stage).toBeInstanceOf(SageMakerEndpointStage);
    expect(stage.kind).toBe(StageKind.SAGEMAKER);
    expect(stage.endpointName).toBe('contract-classifier');
    expect(stage.readsText).toBe(true); // default request { text: 'text' }
  });

  test('InvokeEndpoint on exactly the endpoint ARN, and nothing else of SageMaker', () => {
    const statements = roleStatements(template, stage.role);
    expect(statementsWith(statements, 'sagemaker:InvokeEndpoint')).toEqual([
      { Action: 'sagemaker:InvokeEndpoint', Effect: 'Allow', Resource: endpointArn('contract-classifier') },
    ]);
    expect(statements.flatMap((s) => [s.Action].flat()).filter((a: string) => a.startsWith('sagemaker:'))).toEqual(['sagemaker:InvokeEndpoint']);
  });

  test('the handler knows the endpoint name', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { ENDPOINT_NAME: 'contract-classifier' } },
      Description: 'cdk-ai-pipeline sagemaker stage Classify: SageMaker endpoint contract-classifier',
    });
  });

  test('the task retries the SageMaker transient errors and times out as configured', () => {
    expect(asl.States.Classify.TimeoutSeconds).toBe(90);
    expect(asl.States.Classify.Retry[0].ErrorEquals).toEqual(expect.arrayContaining(['ModelNotReadyException', 'ServiceUnavailable']));
    expect(asl.States.Classify.Retry[0].ErrorEquals).not.toContain('ModelError');
  });

  test('the output contract is the given one; validators accept and reject replies', () => {
    expect(stage.outputContract.schema).toEqual(CLASSIFICATION);
    const dir = stageAssetDir(stage);
    const v = loadValidatorsSource(fs.readFileSync(path.join(dir, 'validators.js'), 'utf8'));
    expect(v.output({ documentType: 'NDA', confidence: 0.93 })).toBe(true);
    expect(v.output({ documentType: 'LEASE', confidence: 0.93 })).toBe(false);
    expect(v.output({ documentType: 'NDA' })).toBe(false);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'stage-config.json'), 'utf8')))
      .toEqual({ stage: 'Classify', kind: 'sagemaker', request: { text: 'text' }, maxInputChars: 100_000 });
  });
});

describe('SageMakerEndpointStage props', () => {
  test('the endpoint ARN is lowercase whatever the case of the name', () => {
    const stage = InferenceStage.sagemakerEndpoint(newStack({ withEnv: true }), 'Classify', { endpointName: 'Contract-Classifier' });
    expect(invokeEndpoint(stage)[0].Resource).toEqual(endpointArn('contract-classifier'));
  });

  test('a token endpoint name is used as is', () => {
    const stack = newStack({ withEnv: true });
    const name = Token.asString({ Ref: 'EndpointName' });
    const stage = InferenceStage.sagemakerEndpoint(stack, 'Classify', { endpointName: name });
    expect(invokeEndpoint(stage)[0].Resource).toEqual({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':sagemaker:us-east-1:123456789012:endpoint/', { Ref: 'EndpointName' }]],
    });
  });

  test('default output contract: any object', () => {
    const stage = InferenceStage.sagemakerEndpoint(newStack(), 'Classify', { endpointName: 'c' });
    expect(stage.outputContract.schema).toEqual({ type: 'object' });
  });

  test('a request reading results and document fields: input contract requires them; no text alias', () => {
    const stage = InferenceStage.sagemakerEndpoint(newStack(), 'Score', {
      endpointName: 'scorer',
      request: { type: 'results.Classify.documentType', name: 'document.key' },
      maxInputChars: 500,
    });
    expect(stage.readsText).toBe(false);
    const input = stage.inputContract.schema;
    expect(input.required).toEqual(['document', 'results']);
    expect(input.properties.document.required).toEqual(['bucket', 'key']);
    expect(input.properties.results).toEqual({
      type: 'object', required: ['Classify'], properties: { Classify: { type: 'object', required: ['documentType'], properties: { documentType: {} } } },
    });
    const config = JSON.parse(fs.readFileSync(path.join(stageAssetDir(stage), 'stage-config.json'), 'utf8'));
    expect(config).toEqual({ stage: 'Score', kind: 'sagemaker', request: { type: 'results.Classify.documentType', name: 'document.key' }, maxInputChars: 500 });
  });

  test.each(['', 'my_endpoint', '-endpoint', 'endpoint-', 'arn:aws:sagemaker:us-east-1:123456789012:endpoint/x', 'a'.repeat(64)])(
    'rejects endpointName %p', (endpointName) => {
      expect(() => InferenceStage.sagemakerEndpoint(newStack(), 'Classify', { endpointName }))
        .toThrow(/^\[SageMakerEndpointStage TestStack\/Classify\] `endpointName` must be 1-63 letters, digits or hyphens, got: '.*'\. Use the endpoint's name, not its ARN\./);
    });

  test('accepts a 63-character endpoint name with hyphens', () => {
    const name = `a-${'b'.repeat(61)}`;
    expect(InferenceStage.sagemakerEndpoint(newStack(), 'Classify', { endpointName: name }).endpointName).toBe(name);
  });

  test('rejects an empty request', () => {
    expect(() => InferenceStage.sagemakerEndpoint(newStack(), 'Classify', { endpointName: 'c', request: {} }))
      .toThrow('[SageMakerEndpointStage TestStack/Classify] `request` must name at least one field, got: {}.');
  });

  test('rejects request paths no stage can see, naming each field', () => {
    expect(() => InferenceStage.sagemakerEndpoint(newStack(), 'Classify', {
      endpointName: 'c',
      request: { a: 'summary', b: 'results.Classify.type', c: 'run.id' },
    })).toThrow("[SageMakerEndpointStage TestStack/Classify] `request` reads a from 'summary', c from 'run.id', which no stage can see. Read 'text', 'document.<field>' or 'results.<Stage>.<field>'.");
  });
});
