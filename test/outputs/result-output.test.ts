import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as opensearch from 'aws-cdk-lib/aws-opensearchservice';
import { AwsSolutionsChecks } from 'cdk-nag';
import { EmbeddingModel, OpenSearchResultOutput, OpenSearchResultOutputProps, Pipeline, ResultOutput, S3ResultOutput } from '../../src';
import { renderAsl, statementsWith } from '../helpers/construct-test-kit';
import { FlagshipParts, flagshipParts, logicalIdOf } from '../helpers/pipeline-fixture';

interface Built {
  readonly parts: FlagshipParts;
  readonly pipeline: Pipeline;
  readonly results: S3ResultOutput;
  readonly search: OpenSearchResultOutput;
  readonly template: Template;
}

function build(search: Partial<OpenSearchResultOutputProps> = {}, domain = false): Built {
  const parts = flagshipParts();
  const results = ResultOutput.s3(parts.stack, 'Results');
  const passedDomain = domain ? opensearch.Domain.fromDomainEndpoint(parts.stack, 'Domain', 'https://search-contracts-abc.us-east-1.es.amazonaws.com') : undefined;
  const index = ResultOutput.openSearch(parts.stack, 'Index', {
    indexName: 'contracts',
    fields: ['Classify.documentType', 'Classify.confidence', 'Summarize.riskScore'],
    embedding: { model: EmbeddingModel.titanTextV2(512), textFrom: 'Extract' },
    ...(passedDomain ? { domain: passedDomain } : {}),
    ...search,
  });
  const pipeline = new Pipeline(parts.stack, 'Contracts', {
    trigger: parts.trigger,
    stages: [parts.extract, parts.classify, parts.summarize],
    routing: parts.routing,
    outputs: [results, index],
  });
  return { parts, pipeline, results, search: index, template: Template.fromStack(parts.stack) };
}

const statementsOf = (b: Built, output: S3ResultOutput | OpenSearchResultOutput) => {
  const policy = output.role.node.findChild('DefaultPolicy');
  return b.template.toJSON().Resources[logicalIdOf(b.parts.stack, policy)].Properties.PolicyDocument.Statement;
};
const envOf = (b: Built, output: S3ResultOutput | OpenSearchResultOutput) =>
  b.template.toJSON().Resources[logicalIdOf(b.parts.stack, output.handler)].Properties.Environment.Variables;

describe('outputs in a pipeline', () => {
  let b: Built;
  beforeAll(() => {
    b = build();
  });

  test('every route and the auto-approve end run the outputs in order, then the run record', () => {
    const asl = renderAsl(b.pipeline.stateMachine);
    expect(asl.States['Route-high-risk'].Next).toBe('Results');
    expect(asl.States['Route-default'].Next).toBe('Results');
    expect(asl.States.Results).toEqual(expect.objectContaining({
      Type: 'Task',
      Next: 'Index',
      ResultPath: '$.outputs.Results',
      Parameters: { 'state.$': '$', 'runId.$': '$$.Execution.Name', 'startedAt.$': '$$.Execution.StartTime' },
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'RecordFailure' }],
    }));
    expect(asl.States.Index).toEqual(expect.objectContaining({ Next: 'RecordRun', ResultPath: '$.outputs.Index' }));
    expect(asl.States.Index.Retry[0].ErrorEquals).toEqual(expect.arrayContaining(['OpenSearch.Throttled', 'Lambda.TooManyRequestsException']));
  });

  test('the S3 output may only PutObject under results/<pipeline>/ and encrypt with its bucket key', () => {
    const st = statementsOf(b, b.results);
    const bucket = logicalIdOf(b.parts.stack, b.results.bucket);
    expect(statementsWith(st, 's3:PutObject')).toEqual([expect.objectContaining({
      Action: 's3:PutObject',
      Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, '/results/Contracts/*']] },
    })]);
    expect(statementsWith(st, 'kms:GenerateDataKey')).toEqual([expect.objectContaining({ Resource: { 'Fn::GetAtt': [logicalIdOf(b.parts.stack, b.results.encryptionKey), 'Arn'] } })]);
    expect(statementsWith(st, 's3:GetObject')).toEqual([]);
    const config = JSON.parse(envOf(b, b.results).OUTPUT_CONFIG);
    expect(config).toEqual({ kind: 's3', output: 'Results', pipeline: 'Contracts', stages: ['Extract', 'Classify', 'Summarize'], prefix: 'results/' });
  });

  test('the index mapping follows the contracts: enum → keyword, number → double, embedding → knn_vector of the model dimension', () => {
    const config = JSON.parse(envOf(b, b.search).OUTPUT_CONFIG);
    expect(config.indexBody.settings).toEqual({ index: { knn: true } });
    expect(config.indexBody.mappings.dynamic).toBe('false');
    expect(config.indexBody.mappings.properties.results).toEqual({
      properties: {
        Classify: { properties: { documentType: { type: 'keyword' }, confidence: { type: 'double' } } },
        Summarize: { properties: { riskScore: { type: 'double' } } },
      },
    });
    expect(config.indexBody.mappings.properties.embedding).toEqual({ type: 'knn_vector', dimension: 512, method: { name: 'hnsw', engine: 'faiss', space_type: 'l2' } });
    expect(config).toEqual(expect.objectContaining({ service: 'aoss', customIds: false, embedding: { modelId: 'amazon.titan-embed-text-v2:0', dimension: 512, textFrom: 'Extract', maxChars: 20000 } }));
  });

  test('a Serverless collection with encryption, network and a data-access policy for the output role on its index only', () => {
    const name = b.search.collection!.name;
    expect(name).toMatch(/^cdkaip-[0-9a-f]{12}$/);
    b.template.hasResourceProperties('AWS::OpenSearchServerless::Collection', { Name: name, Type: 'VECTORSEARCH' });
    b.template.hasResourceProperties('AWS::OpenSearchServerless::SecurityPolicy', { Type: 'encryption', Name: `${name}-enc` });
    b.template.hasResourceProperties('AWS::OpenSearchServerless::SecurityPolicy', { Type: 'network', Name: `${name}-net` });
    const access = Object.values(b.template.findResources('AWS::OpenSearchServerless::AccessPolicy')) as any[];
    expect(access).toHaveLength(1);
    const role = logicalIdOf(b.parts.stack, b.search.role);
    const policy = b.parts.stack.resolve(access[0].Properties.Policy);
    const text = JSON.stringify(policy);
    expect(text).toContain(`index/${name}/contracts`);
    expect(text).not.toContain(`index/${name}/*`);
    expect(text).toContain(role);
    for (const p of ['aoss:CreateIndex', 'aoss:DescribeIndex', 'aoss:UpdateIndex', 'aoss:WriteDocument']) expect(text).toContain(p);
    expect(text).not.toMatch(/aoss:(ReadDocument|DeleteIndex|\*)/);
    const st = statementsOf(b, b.search);
    expect(statementsWith(st, 'aoss:APIAccessAll')).toEqual([expect.objectContaining({ Resource: { 'Fn::GetAtt': [logicalIdOf(b.parts.stack, b.search.collection), 'Arn'] } })]);
    expect(envOf(b, b.search).OPENSEARCH_ENDPOINT).toEqual({ 'Fn::GetAtt': [logicalIdOf(b.parts.stack, b.search.collection), 'CollectionEndpoint'] });
  });

  test('the embedding: InvokeModel on the exact model ARN; read of the Extract text only', () => {
    const st = statementsOf(b, b.search);
    expect(statementsWith(st, 'bedrock:InvokeModel')).toEqual([expect.objectContaining({
      Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':bedrock:us-east-1::foundation-model/amazon.titan-embed-text-v2:0']] },
    })]);
    expect(statementsWith(st, 's3:GetObject')).toEqual([expect.objectContaining({
      Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [logicalIdOf(b.parts.stack, b.pipeline.workingBucket), 'Arn'] }, '/stages/Extract/*']] },
    })]);
  });

  test('the pipeline metadata names the outputs for the local runner', () => {
    const sm = b.template.toJSON().Resources[logicalIdOf(b.parts.stack, b.pipeline.stateMachine)];
    expect(sm.Metadata['cdk-ai-pipeline'].outputs).toEqual([
      { state: 'Results', kind: 's3', handler: logicalIdOf(b.parts.stack, b.results.handler) },
      { state: 'Index', kind: 'opensearch', handler: logicalIdOf(b.parts.stack, b.search.handler) },
    ]);
  });

  test('cdk-nag AwsSolutions: zero unacknowledged findings', () => {
    const report = new AwsSolutionsChecks(b.parts.app).validateScope(b.parts.stack);
    const found = report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`));
    expect(found).toEqual([]);
  });
});

test('a passed domain: es:ESHttpPut/Post on the index only, documents under the run id, no collection', () => {
  const b = build({ embedding: undefined }, true);
  b.template.resourceCountIs('AWS::OpenSearchServerless::Collection', 0);
  const st = statementsOf(b, b.search);
  const es = statementsWith(st, 'es:ESHttpPut');
  expect(es).toHaveLength(1);
  expect(es[0].Action).toEqual(['es:ESHttpPut', 'es:ESHttpPost']);
  expect(JSON.stringify(es[0].Resource)).toMatch(/:domain\/search-contracts\/contracts"\]\]\},.*:domain\/search-contracts\/contracts\/\*"\]\]\}\]$/);
  expect(envOf(b, b.search).OPENSEARCH_ENDPOINT).toBe('https://search-contracts-abc.us-east-1.es.amazonaws.com');
  const config = JSON.parse(envOf(b, b.search).OUTPUT_CONFIG);
  expect([config.service, config.customIds, config.indexBody.settings]).toEqual(['es', true, undefined]);
  const report = new AwsSolutionsChecks(b.parts.app).validateScope(b.parts.stack);
  expect(report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`))).toEqual([]);
});

describe('validation', () => {
  test('a field no contract declares fails synth, naming the output, the field and the fix', () => {
    expect(() => build({ fields: ['Classify.documentKind'], embedding: undefined })).toThrow(
      /^\[OpenSearchResultOutput Flagship\/Index\] `fields` cannot be indexed: 'Classify\.documentKind' is declared by no stage's output contract\. Name fields that a stage's output contract declares/);
  });

  test('an object field cannot be indexed', () => {
    expect(() => build({ fields: ['Summarize.screening'], embedding: undefined })).toThrow(/'Summarize\.screening' is of type 'object'; only strings, numbers and booleans are indexed/);
  });

  test('an embedding of a stage with no text fails synth', () => {
    expect(() => build({ embedding: { model: EmbeddingModel.titanTextV2(), textFrom: 'Classify' } })).toThrow(
      /\[OpenSearchResultOutput Flagship\/Index\] `embedding.textFrom` names 'Classify', which is no stage of the pipeline producing a 'text' pointer/);
  });

  test.each<[Partial<OpenSearchResultOutputProps>, RegExp]>([
    [{ indexName: 'Contracts' }, /`indexName` must be lowercase letters, digits, '-' or '_' .*got: 'Contracts'/],
    [{ collectionName: 'x' }, /`collectionName` must be 3-28 lowercase letters/],
  ])('%j', (props, message) => {
    expect(() => build(props)).toThrow(message);
  });

  test('Titan V2 dimensions', () => {
    expect(() => EmbeddingModel.titanTextV2(300)).toThrow(/^\[EmbeddingModel\.titanTextV2\] `dimension` must be 256, 512 or 1024 .*got: 300\.$/);
  });

  test('an output id that a stage has fails synth', () => {
    const parts = flagshipParts();
    expect(() => new Pipeline(parts.stack, 'Contracts', {
      trigger: parts.trigger, stages: [parts.extract], outputs: [ResultOutput.s3(parts.stack, 'Extract2'), ResultOutput.s3(Stack.of(parts.stack), 'Extract2b')],
    })).not.toThrow();
    const p2 = flagshipParts();
    const clash = ResultOutput.s3(p2.stack, 'Results');
    expect(() => new Pipeline(p2.stack, 'Contracts', { trigger: p2.trigger, stages: [p2.extract], outputs: [clash, clash] })).toThrow(/`outputs` holds an output with the id 'Results'/);
  });

  test('an output in no pipeline fails synth', () => {
    const parts = flagshipParts();
    new Pipeline(parts.stack, 'Contracts', { trigger: parts.trigger, stages: [parts.extract] });
    ResultOutput.s3(parts.stack, 'Loose');
    expect(() => parts.app.synth()).toThrow(/\[S3ResultOutput Flagship\/Loose\] the output writes nothing: pass it in a Pipeline's `outputs`/);
  });
});
