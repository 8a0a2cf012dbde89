import 'aws-sdk-client-mock-jest';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { InvokeEndpointCommand, ModelError, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import { ErrorNames, S3Pointer, SageMakerStageConfig, StageInvocation } from '../../../../src/shared';
import { runSageMakerStage, SageMakerStageDeps } from '../../../../src/stages/sagemaker/handler/sagemaker-stage';
import { awsError, invocation, makeValidators, runState } from '../../../helpers/handler-test-kit';
import { auditRecords, caught, mockText, REGION, stageContext, WORK_BUCKET } from '../../bedrock/handler/bedrock-test-kit';

const TEXT: S3Pointer = { bucket: WORK_BUCKET, key: 'stages/Extract/run-0001/text.json', versionId: 'tv1' };
const PAGES = ['MASTER SERVICES AGREEMENT between Acme and Beta.', 'Limitation of liability: unlimited.'];
const ENDPOINT = 'contract-classifier';

const OUTPUT_SCHEMA = {
  type: 'object',
  required: ['documentType', 'confidence'],
  properties: {
    documentType: { enum: ['NDA', 'MSA', 'SOW', 'EMPLOYMENT', 'OTHER'] },
    confidence: { type: 'number', minimum: 0, maximum: 1 },
  },
};

const CONFIG: SageMakerStageConfig = {
  stage: 'Classify',
  kind: 'sagemaker',
  request: { inputs: 'text', fileName: 'document.key', pages: 'results.Extract.pages' },
  maxInputChars: 1000,
};

function setup(config: Partial<SageMakerStageConfig> = {}) {
  const fx = stageContext('Classify', 'sagemaker', makeValidators({ output: OUTPUT_SCHEMA }));
  const sagemaker = new SageMakerRuntimeClient(REGION);
  const sagemakerMock = mockClient(sagemaker);
  mockText(fx.s3Mock, TEXT, PAGES);
  const deps: SageMakerStageDeps = { ctx: fx.ctx, sagemaker, config: { ...CONFIG, ...config }, endpointName: ENDPOINT };
  return { ...fx, sagemakerMock, deps };
}

function event(results: { [stage: string]: unknown } = { Extract: { text: TEXT, pages: 2 } }): StageInvocation {
  return invocation({ state: runState({ results }) });
}

/** An InvokeEndpoint answer; the core only decodes the bytes. */
function answer(body: string) {
  return { Body: new TextEncoder().encode(body) as any, ContentType: 'application/json', $metadata: {} };
}

describe('SageMaker endpoint stage', () => {
  test('sends the request body built from the stage view and returns the endpoint\'s JSON', async () => {
    const { deps, sagemakerMock, s3Mock } = setup();
    sagemakerMock.on(InvokeEndpointCommand).resolves(answer('{"documentType":"MSA","confidence":0.91}'));

    const output = await runSageMakerStage(deps, event());

    expect(output).toEqual({ documentType: 'MSA', confidence: 0.91 });
    expect(sagemakerMock).toHaveReceivedCommandTimes(InvokeEndpointCommand, 1);
    expect(sagemakerMock).toHaveReceivedCommandWith(InvokeEndpointCommand, {
      EndpointName: ENDPOINT,
      ContentType: 'application/json',
      Accept: 'application/json',
      Body: JSON.stringify({ inputs: PAGES.join('\n\n'), fileName: 'incoming/contract.pdf', pages: 2 }),
    });
    expect(s3Mock).toHaveReceivedCommandWith(GetObjectCommand, { Bucket: WORK_BUCKET, Key: TEXT.key, VersionId: 'tv1' });
    expect(auditRecords(s3Mock)).toEqual([expect.objectContaining({
      stage: 'Classify', stageKind: 'sagemaker', outcome: 'SUCCEEDED', modelId: ENDPOINT,
    })]);
  });

  test('strings are cut at maxInputChars', async () => {
    const { deps, sagemakerMock } = setup({ maxInputChars: 10, request: { inputs: 'text' } });
    sagemakerMock.on(InvokeEndpointCommand).resolves(answer('{"documentType":"MSA","confidence":0.91}'));
    await runSageMakerStage(deps, event());
    expect(sagemakerMock).toHaveReceivedCommandWith(InvokeEndpointCommand, { Body: JSON.stringify({ inputs: PAGES[0].slice(0, 10) }) });
  });

  test('a request path with no value is Contract.InputViolation naming the field and path, with no endpoint call', async () => {
    const { deps, sagemakerMock } = setup({ request: { inputs: 'text', lang: 'results.Detect.language' } });
    const err = await caught(() => runSageMakerStage(deps, event()));
    expect(err.name).toBe(ErrorNames.CONTRACT_INPUT_VIOLATION);
    expect(err.message).toBe('stage Classify: request field \'lang\' reads \'results.Detect.language\', which has no value in the stage view');
    expect(sagemakerMock).toHaveReceivedCommandTimes(InvokeEndpointCommand, 0);
  });

  test('an endpoint reply that violates the output contract is Contract.OutputViolation', async () => {
    const { deps, sagemakerMock, s3Mock } = setup();
    sagemakerMock.on(InvokeEndpointCommand).resolves(answer('{"documentType":"LEASE","confidence":1.7}'));
    const err = await caught(() => runSageMakerStage(deps, event()));
    expect(err.name).toBe(ErrorNames.CONTRACT_OUTPUT_VIOLATION);
    expect(err.message).toContain('/documentType: must be one of ["NDA","MSA","SOW","EMPLOYMENT","OTHER"]');
    expect(err.message).toContain('/confidence: fails \'maximum\'');
    expect(auditRecords(s3Mock)).toEqual([expect.objectContaining({ outcome: 'FAILED', errorName: 'Contract.OutputViolation', modelId: ENDPOINT })]);
  });

  test('ModelError (the container failed) is Model.InvalidOutput with the status only', async () => {
    const { deps, sagemakerMock } = setup();
    sagemakerMock.on(InvokeEndpointCommand).rejects(new ModelError({
      $metadata: { httpStatusCode: 424 },
      message: 'Received server error (500) from primary with message "bad input: MASTER SERVICES"',
      OriginalStatusCode: 500,
      OriginalMessage: 'bad input: MASTER SERVICES',
    }));
    const err = await caught(() => runSageMakerStage(deps, event()));
    expect(err.name).toBe(ErrorNames.MODEL_INVALID_OUTPUT);
    expect(err.message).toBe('stage Classify: endpoint contract-classifier answered with status 500');
  });

  test.each([
    ['not JSON', 'label=MSA', 'did not answer with JSON'],
    ['a JSON array', '[{"label":"MSA"}]', 'did not answer with a JSON object'],
    ['empty', '', 'did not answer with JSON'],
  ])('a reply that is %s is Model.InvalidOutput', async (_what, body, message) => {
    const { deps, sagemakerMock } = setup();
    sagemakerMock.on(InvokeEndpointCommand).resolves(answer(body));
    const err = await caught(() => runSageMakerStage(deps, event()));
    expect(err.name).toBe(ErrorNames.MODEL_INVALID_OUTPUT);
    expect(err.message).toBe(`stage Classify: endpoint contract-classifier ${message}`);
  });

  test.each(['ModelNotReadyException', 'ServiceUnavailable', 'ThrottlingException'])('%s propagates with its SDK name', async (name) => {
    const { deps, sagemakerMock, s3Mock } = setup();
    sagemakerMock.on(InvokeEndpointCommand).rejects(awsError(name, 503));
    const err = await caught(() => runSageMakerStage(deps, event()));
    expect(err.name).toBe(name);
    expect(auditRecords(s3Mock)).toEqual([expect.objectContaining({ outcome: 'FAILED', errorName: name })]);
  });
});

describe('SageMaker endpoint stage: what the audit trail keeps (ADR-0017)', () => {
  test('the request as sent and the endpoint\'s raw reply are kept beside the record; no token counts are invented', async () => {
    const { deps, sagemakerMock, s3Mock } = setup();
    const raw = '{"documentType":"MSA","confidence":0.91,"extra":"kept as sent"}';
    sagemakerMock.on(InvokeEndpointCommand).resolves(answer(raw));
    expect(await runSageMakerStage(deps, event())).toEqual({ documentType: 'MSA', confidence: 0.91, extra: 'kept as sent' });

    const kept = (key: string) => String(s3Mock.commandCalls(PutObjectCommand).find((c) => c.args[0].input.Key === key)!.args[0].input.Body);
    expect(kept('stages/Classify/run-0001/prompt.txt')).toBe(JSON.stringify({ inputs: PAGES.join('\n\n'), fileName: 'incoming/contract.pdf', pages: 2 }));
    expect(JSON.parse(kept('stages/Classify/run-0001/reply.json'))).toEqual({ replies: [{ reply: raw }] });
    const [record] = auditRecords(s3Mock);
    expect(Object.keys(record.content ?? {}).sort()).toEqual(['input', 'output', 'prompt', 'reply']);
    expect(record.model).toEqual({ calls: 1 });
  });
});
