import 'aws-sdk-client-mock-jest';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { ErrorNames, StageInvocation } from '../../../../src/shared';
import { LambdaProxyStageDeps, runLambdaProxyStage } from '../../../../src/stages/lambda/handler/lambda-proxy-stage';
import { awsError, docRef, invocation, makeValidators, runState } from '../../../helpers/handler-test-kit';
import { auditRecords, caught, REGION, stageContext } from '../../bedrock/handler/bedrock-test-kit';

const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:111111111111:function:enrich-parties';
const RESULTS = { Classify: { documentType: 'NDA', confidence: 0.9 } };

const OUTPUT_SCHEMA = {
  type: 'object',
  required: ['parties'],
  properties: { parties: { type: 'array', items: { type: 'string' } } },
};

function setup() {
  const fx = stageContext('Enrich', 'lambda', makeValidators({ output: OUTPUT_SCHEMA }));
  const lambda = new LambdaClient(REGION);
  const lambdaMock = mockClient(lambda);
  const deps: LambdaProxyStageDeps = { ctx: fx.ctx, lambda, config: { stage: 'Enrich', kind: 'lambda' }, functionName: FUNCTION_ARN };
  return { ...fx, lambdaMock, deps };
}

function event(): StageInvocation {
  return invocation({ state: runState({ results: RESULTS }) });
}

function answer(payload: string, functionError?: string) {
  return {
    StatusCode: 200,
    ...(functionError ? { FunctionError: functionError } : {}),
    Payload: new TextEncoder().encode(payload) as any,
    $metadata: {},
  };
}

describe('Lambda proxy stage', () => {
  test('invokes the user\'s function with document, results and run id, and returns its reply', async () => {
    const { deps, lambdaMock, s3Mock } = setup();
    lambdaMock.on(InvokeCommand).resolves(answer('{"parties":["Acme","Beta"]}'));

    const output = await runLambdaProxyStage(deps, event());

    expect(output).toEqual({ parties: ['Acme', 'Beta'] });
    expect(lambdaMock).toHaveReceivedCommandTimes(InvokeCommand, 1);
    expect(lambdaMock).toHaveReceivedCommandWith(InvokeCommand, {
      FunctionName: FUNCTION_ARN,
      Payload: JSON.stringify({ document: docRef(), results: RESULTS, runId: 'run-0001' }),
    });
    expect(auditRecords(s3Mock)).toEqual([expect.objectContaining({ stage: 'Enrich', stageKind: 'lambda', outcome: 'SUCCEEDED' })]);
  });

  test('a function error reaches the state machine under the function\'s own error name', async () => {
    const { deps, lambdaMock, s3Mock } = setup();
    lambdaMock.on(InvokeCommand).resolves(answer(JSON.stringify({
      errorType: 'Document.NoText',
      errorMessage: 'no text on any page',
      trace: ['Error: no text on any page', '    at handler (/var/task/index.js:1:1)'],
    }), 'Unhandled'));

    const err = await caught(() => runLambdaProxyStage(deps, event()));

    expect(err.name).toBe(ErrorNames.DOCUMENT_NO_TEXT);
    expect(err.message).toBe('stage Enrich: the function failed with Document.NoText: no text on any page');
    expect(err.message).not.toContain('/var/task');
    expect(auditRecords(s3Mock)).toEqual([expect.objectContaining({ outcome: 'FAILED', errorName: 'Document.NoText' })]);
  });

  test('only the first 200 characters of the function\'s error message are kept', async () => {
    const { deps, lambdaMock } = setup();
    const long = 'x'.repeat(200) + 'SECRET-TAIL';
    lambdaMock.on(InvokeCommand).resolves(answer(JSON.stringify({ errorType: 'ValidationError', errorMessage: long }), 'Handled'));
    const err = await caught(() => runLambdaProxyStage(deps, event()));
    expect(err.name).toBe('ValidationError');
    expect(err.message).toBe(`stage Enrich: the function failed with ValidationError: ${'x'.repeat(200)}`);
  });

  test('a function error without the runtime\'s error shape is Lambda.Unknown and keeps nothing of the payload', async () => {
    const { deps, lambdaMock } = setup();
    lambdaMock.on(InvokeCommand).resolves(answer('segfault near CONTRACT TEXT', 'Unhandled'));
    const err = await caught(() => runLambdaProxyStage(deps, event()));
    expect(err.name).toBe('Lambda.Unknown');
    expect(err.message).toBe('stage Enrich: the function failed with Lambda.Unknown');
  });

  test('a reply that violates the output contract is Contract.OutputViolation', async () => {
    const { deps, lambdaMock } = setup();
    lambdaMock.on(InvokeCommand).resolves(answer('{"parties":"Acme and Beta"}'));
    const err = await caught(() => runLambdaProxyStage(deps, event()));
    expect(err.name).toBe(ErrorNames.CONTRACT_OUTPUT_VIOLATION);
    expect(err.message).toBe('the output of stage Enrich violates its contract: /parties: must be array');
  });

  test.each([
    ['null', 'the function\'s reply is not a JSON object'],
    ['"done"', 'the function\'s reply is not a JSON object'],
    ['', 'the function\'s reply is not JSON'],
  ])('a reply of %j is Contract.OutputViolation', async (payload, message) => {
    const { deps, lambdaMock } = setup();
    lambdaMock.on(InvokeCommand).resolves(answer(payload));
    const err = await caught(() => runLambdaProxyStage(deps, event()));
    expect(err.name).toBe(ErrorNames.CONTRACT_OUTPUT_VIOLATION);
    expect(err.message).toBe(`stage Enrich: ${message}`);
  });

  test('Lambda service throttling propagates with its SDK name', async () => {
    const { deps, lambdaMock } = setup();
    lambdaMock.on(InvokeCommand).rejects(awsError('TooManyRequestsException', 429));
    const err = await caught(() => runLambdaProxyStage(deps, event()));
    expect(err.name).toBe('TooManyRequestsException');
  });
});
