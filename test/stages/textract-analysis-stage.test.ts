import * as fs from 'fs';
import * as path from 'path';
import { App, Size, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import {
  DocumentTrigger, InferenceStage, Pipeline, ServiceQuota, RouteDestination, RoutingPolicy, RoutingRule, RuleCondition, StageKind,
  TextractAnalysisStage, TextractFeature, TextractQuery,
} from '../../src';
import { loadValidatorsSource } from '../../src/runtime/contracts';
import {
  arnOf, attachStage, newAttachment, newStack, roleStatements, stageAssetDir, stateMachineOf, statementsWith,
} from '../helpers/construct-test-kit';
import { describeFindings, FIVE_PACKS, fivePackFindings, packSummary } from '../helpers/nag-packs';

const QUERIES: TextractQuery[] = [
  { text: 'What is the invoice total?', alias: 'total' },
  { text: 'Who is the supplier?', alias: 'supplier', pages: ['*'] },
];
const SHA = 'a'.repeat(64);
const pointer = (key: string) => ({ bucket: 'work-bucket', key, sha256: SHA });

describe('TextractAnalysisStage', () => {
  let stack: Stack;
  let stage: TextractAnalysisStage;
  let template: Template;
  let asl: any;
  let attachment: ReturnType<typeof newAttachment>;

  beforeAll(() => {
    stack = newStack({ withEnv: true });
    stage = InferenceStage.textractAnalysis(stack, 'Analyze', { queries: QUERIES });
    attachment = newAttachment(stack);
    attachStage(stage, attachment);
    const built = stateMachineOf(stage);
    asl = built.asl;
    stage.grantTaskResponse(built.stateMachine);
    template = Template.fromStack(stack);
  });

  test('a Textract stage (same service, quotas and local runner) asking for forms, tables and the queries', () => {
    expect(stage).toBeInstanceOf(TextractAnalysisStage);
    expect(stage.kind).toBe(StageKind.TEXTRACT);
    expect(stage.features).toEqual([TextractFeature.FORMS, TextractFeature.TABLES, TextractFeature.QUERIES]);
    const config = JSON.parse(fs.readFileSync(path.join(stageAssetDir(stage), 'stage-config.json'), 'utf8'));
    expect(config).toEqual({
      stage: 'Analyze',
      kind: 'textract',
      maxDocumentBytes: 50 * 1024 * 1024,
      maxPages: 3000,
      maxDecompressedBytes: 256 * 1024 * 1024,
      analysis: {
        features: ['FORMS', 'TABLES', 'QUERIES'],
        queries: [
          { text: 'What is the invoice total?', alias: 'total' },
          { text: 'Who is the supplier?', alias: 'supplier', pages: ['*'] },
        ],
      },
    });
  });

  test('waits for the task token; Textract throttling and transient errors are retried', () => {
    const task = asl.States.Analyze;
    expect(task.Resource).toMatch(/^arn:.*:states:::lambda:invoke\.waitForTaskToken$/);
    expect(task.Parameters.Payload['taskToken.$']).toBe('$$.Task.Token');
    expect(task.TimeoutSeconds).toBe(30 * 60);
    expect(task.Retry[0].ErrorEquals).toEqual(expect.arrayContaining([
      'ProvisionedThroughputExceededException', 'ThrottlingException', 'InternalServerError', 'LimitExceededException',
    ]));
    // Bad documents are not retried: they go to the stage's Catch (quarantine).
    expect(task.Retry.flatMap((r: any) => r.ErrorEquals)).not.toContain('Document.Corrupt');
  });

  test('grants exactly the three document-analysis actions on "*", and no text-detection action', () => {
    const statements = roleStatements(template, stage.role);
    expect(statements.filter((s) => JSON.stringify(s.Action).includes('textract:'))).toEqual([{
      Action: ['textract:AnalyzeDocument', 'textract:StartDocumentAnalysis', 'textract:GetDocumentAnalysis'],
      Effect: 'Allow',
      Resource: '*',
    }]);
    expect(statementsWith(statements, 'iam:PassRole')).toEqual([
      { Action: 'iam:PassRole', Effect: 'Allow', Resource: arnOf(stage.textractServiceRole) },
    ]);
  });

  test('reads the documents under exactly the trigger\'s prefix and decrypts them with exactly their key', () => {
    const statements = roleStatements(template, stage.role);
    const docs = { 'Fn::GetAtt': [stack.getLogicalId(attachment.documentBucket.node.defaultChild as any), 'Arn'] };
    expect(statementsWith(statements, 's3:GetObjectVersion')[0]).toEqual({
      Action: ['s3:GetObject', 's3:GetObjectVersion'], Effect: 'Allow', Resource: { 'Fn::Join': ['', [docs, '/incoming/*']] },
    });
    expect(statementsWith(statements, 'kms:Decrypt')[0]).toEqual({
      Action: 'kms:Decrypt', Effect: 'Allow', Resource: { 'Fn::GetAtt': [stack.getLogicalId(attachment.documentKey.node.defaultChild as any), 'Arn'] },
    });
    // No statement on every bucket or every key.
    expect(statements.filter((s) => s.Resource === '*').map((s) => s.Action)).toEqual([
      ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
      ['textract:AnalyzeDocument', 'textract:StartDocumentAnalysis', 'textract:GetDocumentAnalysis'],
    ]);
  });

  test('the completion topic is encrypted with the SNS key, subscribed by the handler; Textract publishes with its own role', () => {
    const topicRef = { Ref: stack.getLogicalId(stage.completionTopic.node.defaultChild as any) };
    template.resourceCountIs('AWS::SNS::Topic', 1);
    template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':kms:us-east-1:123456789012:alias/aws/sns']] },
    });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'lambda', TopicArn: topicRef, Endpoint: arnOf(stage.handler) });
    expect(roleStatements(template, stage.textractServiceRole)).toEqual([{ Action: 'sns:Publish', Effect: 'Allow', Resource: topicRef }]);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { TEXTRACT_TOPIC_ARN: topicRef, TEXTRACT_ROLE_ARN: arnOf(stage.textractServiceRole) } },
    });
  });

  test('grantTaskResponse: SendTaskSuccess/Failure in a policy of its own, not in the default policy', () => {
    const policy = stage.node.findChild('TaskResponsePolicy');
    const props = template.toJSON().Resources[stack.getLogicalId(policy.node.defaultChild as any)].Properties;
    expect(props.PolicyDocument.Statement).toEqual([expect.objectContaining({ Action: ['states:SendTaskSuccess', 'states:SendTaskFailure'] })]);
    expect(statementsWith(roleStatements(template, stage.role), 'states:SendTaskSuccess')).toEqual([]);
  });

  test('output contract: a fixture of the designed shape passes; wrong shapes fail', () => {
    const v = loadValidatorsSource(fs.readFileSync(path.join(stageAssetDir(stage), 'validators.js'), 'utf8'));
    const good = {
      text: pointer('stages/Analyze/r/text.json'),
      pages: 2,
      mode: 'async',
      analysis: pointer('stages/Analyze/r/analysis.json'),
      keyValues: [{ key: 'Invoice number', value: 'INV-0042', confidence: 0.97, page: 1 }],
      keyValueCount: 1,
      tableCount: 1,
      queryAnswers: { total: { text: '1,250.00 EUR', confidence: 0.91, page: 1 }, supplier: { text: '', confidence: 0 } },
    };
    expect(v.output(good)).toBe(true);
    // every alias must be answered (empty when none), and no other alias may appear
    expect(v.output({ ...good, queryAnswers: { total: good.queryAnswers.total } })).toBe(false);
    expect(v.output({ ...good, queryAnswers: { ...good.queryAnswers, other: { text: 'x', confidence: 1 } } })).toBe(false);
    // confidences are 0-1, key-value pairs carry their page, tables are never inline
    expect(v.output({ ...good, keyValues: [{ key: 'k', value: 'v', confidence: 97, page: 1 }] })).toBe(false);
    expect(v.output({ ...good, keyValues: [{ key: 'k', value: 'v', confidence: 0.9 }] })).toBe(false);
    expect(v.output({ ...good, tables: [{ page: 1, rows: [['a']] }] })).toBe(false);
    expect(v.output({ ...good, analysis: 'inline' })).toBe(false);
  });
});

describe('TextractAnalysisStage in a pipeline', () => {
  let app: App;
  let stack: Stack;
  beforeAll(() => {
    app = new App({ builtinCloudFormationValidation: false });
    stack = new Stack(app, 'Invoices', { env: { account: '111111111111', region: 'us-east-1' } });
    const analyze = InferenceStage.textractAnalysis(stack, 'Analyze', { queries: QUERIES, features: [TextractFeature.FORMS, TextractFeature.QUERIES, TextractFeature.SIGNATURES] });
    new Pipeline(stack, 'Invoices', {
      trigger: DocumentTrigger.s3Upload(stack, 'Upload', { prefix: 'invoices/', suffixes: ['.pdf'] }),
      stages: [analyze],
      routing: new RoutingPolicy(stack, 'Route', {
        rules: [
          RoutingRule.when('unsigned', RuleCondition.numberBelow('Analyze.signatureCount', 1), RouteDestination.sqsQueue('unsigned', new sqs.Queue(stack, 'Unsigned', { enforceSSL: true }))),
          RoutingRule.when('no-total', RuleCondition.numberBelow('Analyze.queryAnswers.total.confidence', 0.5), RouteDestination.sqsQueue('check', new sqs.Queue(stack, 'Check', { enforceSSL: true }))),
        ],
        defaultRoute: RouteDestination.sqsQueue('book', new sqs.Queue(stack, 'Book', { enforceSSL: true })),
      }),
    });
    Template.fromStack(stack);
  });

  test('routing rules read the inline answers and counts the contract declares', () => {
    expect(app.synth().getStackByName('Invoices').template).toBeDefined();
  });

  test('a rule reading an alias no query has fails synth', () => {
    const a = new App({ builtinCloudFormationValidation: false });
    const s = new Stack(a, 'Bad', { env: { account: '111111111111', region: 'us-east-1' } });
    const analyze = InferenceStage.textractAnalysis(s, 'Analyze', { queries: QUERIES });
    expect(() => {
      new Pipeline(s, 'Bad', {
        trigger: DocumentTrigger.s3Upload(s, 'Upload'),
        stages: [analyze],
        routing: new RoutingPolicy(s, 'Route', {
          rules: [RoutingRule.when('x', RuleCondition.stringEquals('Analyze.queryAnswers.iban.text', ''), RouteDestination.sqsQueue('x', new sqs.Queue(s, 'X', { enforceSSL: true })))],
          defaultRoute: RouteDestination.sqsQueue('d', new sqs.Queue(s, 'D', { enforceSSL: true })),
        }),
      });
      a.synth();
    }).toThrow(/Analyze\.queryAnswers\.iban\.text/);
  });

  test('five cdk-nag packs: zero unacknowledged findings on the library\'s resources', () => {
    const findings = fivePackFindings(app, stack);
    // The destination queues are the user's own (no dead-letter queue of their own here).
    const ours = Object.fromEntries(FIVE_PACKS.map((p) => [p, findings[p].filter((f) => !/^Invoices\/(Unsigned|Check|Book)\//.test(f.path))])) as typeof findings;
    process.stdout.write(`five cdk-nag packs on a Textract analysis pipeline: ${packSummary(ours)}\n`);
    expect(describeFindings(ours)).toBe('');
  });
});

describe('TextractAnalysisStage on its own', () => {
  test('in a state machine of the user\'s own it attaches itself and may answer that state machine\'s task token', () => {
    const stack = new Stack(new App({ builtinCloudFormationValidation: false }), 'Mine', { env: { account: '111111111111', region: 'us-east-1' } });
    const analyze = InferenceStage.textractAnalysis(stack, 'Analyze', { queries: QUERIES });
    const prepare = new sfn.Pass(stack, 'Prepare', { parameters: { 'document.$': '$.document', 'results': {} } });
    const machine = new sfn.StateMachine(stack, 'MyMachine', { definitionBody: sfn.DefinitionBody.fromChainable(prepare.next(analyze)) });
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [{
          Action: ['states:SendTaskSuccess', 'states:SendTaskFailure'],
          Effect: 'Allow',
          Resource: { Ref: stack.getLogicalId(machine.node.defaultChild as sfn.CfnStateMachine) },
        }],
      },
      Roles: [{ Ref: stack.getLogicalId(analyze.role.node.defaultChild as any) }],
    });
  });
});

describe('TextractAnalysisStage props', () => {
  const make = (props: any) => () => InferenceStage.textractAnalysis(newStack(), 'Analyze', props);
  const where = '[TextractAnalysisStage TestStack/Analyze]';
  const q = (i: number, pages?: string[]) => ({ text: `What is field ${i}?`, alias: `f${i}`, ...(pages ? { pages } : {}) });

  test('defaults: FORMS and TABLES, no queries; the preflight limits as for TextractStage', () => {
    const stage = InferenceStage.textractAnalysis(newStack(), 'Analyze', { maxPages: 10, maxDocumentSize: Size.mebibytes(5) });
    expect(stage.features).toEqual([TextractFeature.FORMS, TextractFeature.TABLES]);
    const config = JSON.parse(fs.readFileSync(path.join(stageAssetDir(stage), 'stage-config.json'), 'utf8'));
    expect(config).toMatchObject({ maxPages: 10, maxDocumentBytes: 5 * 1024 * 1024, analysis: { features: ['FORMS', 'TABLES'], queries: [] } });
    expect(() => InferenceStage.textractAnalysis(newStack(), 'Analyze', { maxPages: 3001 }))
      .toThrow(`${where} \`maxPages\` must be a whole number from 1 to 3000 (Textract's asynchronous limit), got: 3001.`);
  });

  test.each([
    [{ features: [] }, '`features` must name at least one feature, got: []. Leave it out for FORMS and TABLES.'],
    [{ features: [TextractFeature.FORMS, TextractFeature.FORMS] }, '`features` names FORMS twice. Name each feature once.'],
    [{ features: [TextractFeature.QUERIES] }, '`features` has QUERIES but `queries` is empty. Give at least one query, or drop QUERIES.'],
    [{ features: [TextractFeature.TABLES], queries: [q(1)] }, '`queries` has 1 queries but `features` has no QUERIES (got: TABLES). Add TextractFeature.QUERIES to `features`.'],
    [{ queries: [{ text: 'Quel est le montant dû ?', alias: 'total' }] }, '`queries[0]`.text must be 1 to 200 characters of letters, digits, spaces and ASCII punctuation (Textract\'s limit), got: "Quel est le montant dû ?".'],
    [{ queries: [{ text: 'x'.repeat(201), alias: 'total' }] }, `\`queries[0]\`.text must be 1 to 200 characters of letters, digits, spaces and ASCII punctuation (Textract's limit), got: "${'x'.repeat(201)}".`],
    [{ queries: [{ text: 'What is the total?', alias: 'invoice total' }] }, '`queries[0]`.alias must be a letter followed by letters, digits or _, at most 64 characters (routing rules read `queryAnswers.<alias>`), got: "invoice total".'],
    [{ queries: [q(1), { ...q(2), alias: 'f1' }] }, '`queries[1]`.alias \'f1\' is used by an earlier query. Give each query its own alias.'],
    [{ queries: [q(1, [])] }, '`queries[0]`.pages must have at least one page selector, got: []. Leave it out for page 1.'],
    [{ queries: [q(1, ['0'])] }, '`queries[0]`.pages has "0": each selector must be a page (\'2\'), a range (\'2-4\', \'3-*\') or \'*\'.'],
    [{ queries: [q(1, ['4-2'])] }, '`queries[0]`.pages has the range \'4-2\', which ends before it starts.'],
    [{ queries: [q(1, ['*', '2'])] }, '`queries[0]`.pages has \'*\' with other selectors (*, 2): \'*\' must be alone.'],
    [{ queries: Array.from({ length: 31 }, (_, i) => q(i, ['2'])) }, '`queries` may have at most 30 queries (Textract\'s limit per page), got: 31.'],
    [{ queries: Array.from({ length: 16 }, (_, i) => q(i, i % 2 ? ['*'] : ['1-3'])) }, '16 queries apply to page 1, over Textract\'s 15 per page for single-page documents (analyzed synchronously). Move some to later pages or drop them.'],
  ])('rejects %j', (props, message) => {
    expect(make(props)).toThrow(`${where} ${message}`);
  });

  test('a Textract quota meters the analysis APIs: AnalyzeDocument and StartDocumentAnalysis have buckets of their own', () => {
    const stack = newStack();
    const quota = ServiceQuota.textract(stack, 'TextractQuota', { startDocumentAnalysisPerSecond: 2 });
    const stage = InferenceStage.textractAnalysis(stack, 'Analyze', { quota });
    expect(stage.quota).toBe(quota);
    expect(quota.limits).toEqual(expect.arrayContaining([
      expect.objectContaining({ dimension: 'AnalyzeDocument', quotaPerSecond: 10 }),
      expect.objectContaining({ dimension: 'StartDocumentAnalysis', quotaPerSecond: 2 }),
      expect.objectContaining({ dimension: 'DetectDocumentText', quotaPerSecond: 10 }),
    ]));
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('AnalyzeDocument'))).toEqual([]);
    expect(() => ServiceQuota.textract(newStack(), 'Bad', { analyzeDocumentPerSecond: 0 })).toThrow(/analyzeDocumentPerSecond/);
  });

  test('accepts 30 queries when at most 15 apply to page 1', () => {
    const queries = Array.from({ length: 30 }, (_, i) => q(i, i < 15 ? ['1'] : ['2-*']));
    expect(make({ queries })().outputContract.schema).toMatchObject({ properties: { queryAnswers: { required: queries.map((x) => x.alias) } } });
  });
});
