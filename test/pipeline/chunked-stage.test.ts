import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import {
  BedrockModel, ChunkBy, ChunkedStage, ChunkReducer, ConditionalStage, InferenceStage, ParallelBranch, ParallelStages, Pipeline,
  PromptTemplate, RuleCondition, StageContract,
} from '../../src';
import { chunkedStack, SUMMARY_OUTPUT } from '../helpers/chunked-app';
import { definitionFromTemplate } from '../helpers/local-sfn';
import { classifyStage, extractStage, newStack, uploadTrigger } from '../helpers/pipeline-fixture';

const fresh = () => new App({ builtinCloudFormationValidation: false });

describe('ChunkedStage: the states', () => {
  const { stack, step, pipeline } = chunkedStack(fresh());
  const template = Template.fromStack(stack);
  const states = definitionFromTemplate(template).States as { [name: string]: any };

  test('split → size → inline Map or Distributed Map → reduce → routing; every state catches to the failure path', () => {
    expect(states.Extract.Next).toBe('SummarizeChunks');
    expect(states.SummarizeChunks).toMatchObject({ Type: 'Task', ResultPath: '$.chunking', Next: 'SummarizeChunks-size', Parameters: { 'action': 'split', 'state.$': '$' } });
    expect(states['SummarizeChunks-size'].Choices).toEqual([{ Variable: '$.chunking.count', NumericGreaterThan: 40, Next: 'SummarizeChunks-chunks-distributed', Comment: 'more than 40 chunks' }]);
    expect(states['SummarizeChunks-size'].Default).toBe('SummarizeChunks-chunks');
    expect(states['SummarizeChunks-chunks'].Next).toBe('SummarizeChunks-reduce');
    expect(states['SummarizeChunks-chunks-distributed'].Next).toBe('SummarizeChunks-reduce');
    expect(states['SummarizeChunks-reduce'].Next).toBe('Route');
    // the reduce replaces the state with { document, results }: no ResultPath, the split's $.chunking is dropped
    expect(states['SummarizeChunks-reduce'].ResultPath).toBeUndefined();
    for (const name of ['SummarizeChunks', 'SummarizeChunks-chunks', 'SummarizeChunks-chunks-distributed', 'SummarizeChunks-reduce']) {
      expect(states[name].Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'SummarizeChunks-failed' }]);
    }
    // the failure path names the stage that ran per chunk
    expect(states['SummarizeChunks-failed']).toMatchObject({ Type: 'Pass', Result: 'Summarize', ResultPath: '$.failedStage', Next: 'RecordFailure' });
    expect(step.stepName).toBe('SummarizeChunks');
  });

  test('the inline Map: the stage then keep per chunk, the chunk merged into results, concurrency bounded, output discarded', () => {
    const map = states['SummarizeChunks-chunks'];
    expect(map).toMatchObject({
      Type: 'Map',
      ItemsPath: '$.chunking.items',
      MaxConcurrency: 3,
      ResultPath: null,
      ItemSelector: { 'document.$': '$.document', 'results.$': 'States.JsonMerge($.results, $$.Map.Item.Value, false)' },
    });
    expect(map.ItemProcessor.ProcessorConfig).toEqual({ Mode: 'INLINE' });
    expect(map.ItemProcessor.StartAt).toBe('Summarize');
    // the stage runs as it always does: its own retry, timeout and result path; no catch inside the Map
    expect(map.ItemProcessor.States.Summarize).toMatchObject({ ResultPath: '$.results.Summarize', TimeoutSeconds: 300, Next: 'SummarizeChunks-keep' });
    expect(map.ItemProcessor.States.Summarize.Retry[0].ErrorEquals).toContain('ThrottlingException');
    expect(map.ItemProcessor.States.Summarize.Catch).toBeUndefined();
    expect(map.ItemProcessor.States['SummarizeChunks-keep']).toMatchObject({
      ResultPath: null,
      End: true,
      Parameters: { 'action': 'keep', 'chunk.$': '$.results.SummarizeChunks', 'result.$': '$.results.Summarize' },
    });
  });

  test('the Distributed Map: standard child executions reading the chunk list from S3, the same stage task', () => {
    const map = states['SummarizeChunks-chunks-distributed'];
    expect(map.ItemProcessor.ProcessorConfig).toEqual({ Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' });
    expect(map.ItemReader).toEqual({ Resource: 'arn:aws:states:::s3:getObject', ReaderConfig: { InputType: 'JSON' }, Parameters: { 'Bucket.$': '$.chunking.manifest.bucket', 'Key.$': '$.chunking.manifest.key' } });
    const inline = { ...states['SummarizeChunks-chunks'].ItemProcessor.States.Summarize, Next: undefined };
    const copy = { ...map.ItemProcessor.States['Summarize-distributed'], Next: undefined };
    expect(copy).toEqual(inline);
    expect(map.MaxConcurrency).toBe(3);
  });

  test('maxChunks at or below distributedAbove: no Choice and no Distributed Map', () => {
    const { stack: s } = chunkedStack(fresh(), { step: { maxChunks: 30, distributedAbove: 30 } });
    const st = definitionFromTemplate(Template.fromStack(s)).States as { [name: string]: any };
    expect(st.SummarizeChunks.Next).toBe('SummarizeChunks-chunks');
    expect(st['SummarizeChunks-size']).toBeUndefined();
    expect(st['SummarizeChunks-chunks-distributed']).toBeUndefined();
  });

  test('the chunk function: its own role, its prefix, the source text and the stage\'s data read-only; the runner metadata names it', () => {
    const policies = template.findResources('AWS::IAM::Policy');
    const roleId = stack.getLogicalId(step.role.node.defaultChild as any);
    const mine = Object.values(policies).filter((p: any) => p.Properties.Roles.some((r: any) => r.Ref === roleId));
    const statements = mine.flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    const resourcesOf = (action: string) => JSON.stringify(statements
      .filter((s: any) => [s.Action].flat().includes(action)).map((s: any) => s.Resource));
    expect(resourcesOf('s3:PutObject')).toMatch(/\/stages\/SummarizeChunks\/\*/);
    expect(resourcesOf('s3:PutObject')).not.toMatch(/stages\/(Extract|Summarize)\//);
    expect(resourcesOf('s3:GetObject')).toMatch(/\/stages\/Extract\/\*/);
    expect(resourcesOf('s3:GetObject')).toMatch(/\/stages\/Summarize\/\*/);
    expect(statements.some((s: any) => [s.Action].flat().some((a: string) => a.startsWith('bedrock:')))).toBe(false);
    const sm = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0] as any;
    expect(sm.Metadata['cdk-ai-pipeline'].chunks).toEqual([{
      step: 'SummarizeChunks',
      stage: 'Summarize',
      handler: stack.getLogicalId(step.handler.node.defaultChild as any),
      states: ['SummarizeChunks', 'SummarizeChunks-keep', 'SummarizeChunks-reduce', 'SummarizeChunks-keep-distributed'],
    }]);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ CHUNK_SOURCE_STAGE: 'Extract', STAGE_NAME: Match.absent() }) },
    });
  });

  test('the state machine may start, describe and stop its own child executions (CDK\'s DistributedMapPolicy), and read the chunk list', () => {
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    const start = statements.filter((s: any) => s.Action === 'states:StartExecution');
    // the trigger's starter and the state machine itself (child executions): both on this state machine only
    expect(start.length).toBeGreaterThanOrEqual(2);
    for (const st of start) expect(st.Resource).toEqual({ Ref: stack.getLogicalId(pipeline.stateMachine.node.defaultChild as any) });
    const read = statements.find((s: any) => s.Action === 's3:GetObject' && JSON.stringify(s.Resource).includes('/stages/SummarizeChunks/*') && !JSON.stringify(s).includes('PutObject'));
    expect(read).toBeDefined();
  });

  test('cdk-nag: no unacknowledged AwsSolutions finding (the test\'s own queues aside)', () => {
    const app = fresh();
    const { stack: s } = chunkedStack(app);
    Template.fromStack(s);
    const report = new AwsSolutionsChecks(app).validateScope(s);
    const findings = report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`))
      .filter((f) => !/^AwsSolutions-SQS3 at Chunked\/(Legal|Review)\//.test(f));
    expect(findings).toEqual([]);
  });
});

describe('ChunkedStage: synth-time checks', () => {
  const bedrock = (s: Stack, output: object = SUMMARY_OUTPUT, id = 'Summarize') => InferenceStage.bedrock(s, id, {
    model: BedrockModel.inferenceProfile('us.anthropic.claude-3-5-haiku-20241022-v1:0'),
    prompt: PromptTemplate.fromText('Summarize:\n{{text}}', { version: '1' }),
    output: StageContract.fromObject(output),
  });
  const lambdaStage = (s: Stack, id: string) => InferenceStage.lambda(s, id, {
    function: new lambda.Function(s, `${id}Fn`, { runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler=async()=>({})') }),
    output: StageContract.fromObject({ type: 'object', required: ['documentType'], properties: { documentType: { type: 'string' } } }),
  });
  const good = [ChunkReducer.concatenate('summary'), ChunkReducer.max('riskScore'), ChunkReducer.union('riskClauses')];
  const step = (s: Stack, reducers = good, extra: object = {}) => new ChunkedStage(s, 'Chunks', { stage: bedrock(s), chunkBy: ChunkBy.pages(10), reducers, ...extra });

  test('compatible shapes: concatenate on a string, max on a number, union on an array, any on a boolean, merge on an object, first on anything', () => {
    const { stack } = newStack();
    const output = { ...SUMMARY_OUTPUT, properties: { ...SUMMARY_OUTPUT.properties, urgent: { type: 'boolean' }, count: { type: 'integer' }, meta: { type: 'object' } } };
    expect(() => new ChunkedStage(stack, 'Chunks', {
      stage: bedrock(stack, output),
      chunkBy: ChunkBy.tokens(8000),
      reducers: [...good, ChunkReducer.any('urgent'), ChunkReducer.sum('count'), ChunkReducer.merge('meta'), ChunkReducer.first('language')],
    })).not.toThrow();
    // concatenate on an array is fine too
    const { stack: s2 } = newStack();
    expect(() => step(s2, [ChunkReducer.first('summary'), ChunkReducer.max('riskScore'), ChunkReducer.concatenate('riskClauses')])).not.toThrow();
  });

  test.each([
    ['max on a string', ChunkReducer.max('summary'), /applies max to 'summary', which the output contract of 'Summarize' \(StageContract.fromObject\) declares as string; max needs a number/],
    ['union on a number', ChunkReducer.union('riskScore'), /applies union to 'riskScore', which the output contract of 'Summarize' \(StageContract.fromObject\) declares as number; union needs an array/],
    ['concatenate on a number', ChunkReducer.concatenate('riskScore'), /applies concatenate to 'riskScore'.*concatenate needs a string, an array or an S3 pointer/],
    ['any on a string', ChunkReducer.any('language'), /applies any to 'language'.*any needs a boolean/],
    ['sum on an array', ChunkReducer.sum('riskClauses'), /applies sum to 'riskClauses'.*declares as array; sum needs a number/],
  ])('incompatible: %s', (_name, reducer, message) => {
    const { stack } = newStack({ id: 'V' });
    const others = good.filter((g) => g.field !== reducer.field);
    expect(() => step(stack, [...others, reducer])).toThrow(new RegExp(`\\[ChunkedStage V/Chunks\\] \`reducers\` ${message.source}`));
  });

  test('a field the contract does not declare, a field reduced twice, nothing to reduce, a Lambda with others', () => {
    const { stack } = newStack({ id: 'V' });
    expect(() => step(stack, [...good, ChunkReducer.max('score')])).toThrow(/\[ChunkedStage V\/Chunks\] `reducers` names 'score' \(max\), which the output contract of 'Summarize' \(StageContract.fromObject\) does not declare as a top-level field. Reduce a declared field: summary, riskScore, riskClauses, language, response, screening, usage/);
    const { stack: s2 } = newStack({ id: 'V' });
    expect(() => step(s2, [...good, ChunkReducer.first('summary')])).toThrow(/`reducers` reduces 'summary' twice \(concatenate and first\)/);
    const { stack: s3 } = newStack({ id: 'V' });
    expect(() => step(s3, [])).toThrow(/`reducers` must hold a reducer per output field of 'Summarize', or ChunkReducer.lambda\(fn\), got: \[\]/);
    const { stack: s4 } = newStack({ id: 'V' });
    const fn = new lambda.Function(s4, 'Reducer', { runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler=async()=>({})') });
    expect(() => step(s4, [ChunkReducer.lambda(fn), ChunkReducer.max('riskScore')])).toThrow(/holds ChunkReducer.lambda\(...\) and 1 other reducer\(s\)/);
  });

  test('a required field no reducer covers: the reduced result would not satisfy the contract', () => {
    const { stack } = newStack({ id: 'V' });
    expect(() => step(stack, [ChunkReducer.concatenate('summary'), ChunkReducer.max('riskScore')]))
      .toThrow(/\[ChunkedStage V\/Chunks\] the reduced result of 'Summarize' would miss the required field\(s\) 'riskClauses' of its output contract \(StageContract.fromObject\): no reducer covers them. Add a reducer for each \(e.g. ChunkReducer.first\('riskClauses'\)\)/);
  });

  test('a Lambda reducer covers the whole result, and is granted invoke', () => {
    const { stack } = newStack({ id: 'V' });
    const fn = new lambda.Function(stack, 'Reducer', { runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler=async()=>({})') });
    const chunks = step(stack, [ChunkReducer.lambda(fn)]);
    new Pipeline(stack, 'P', { trigger: uploadTrigger(stack), stages: [extractStage(stack), chunks] });
    const statements = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy')).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    expect(statements.some((s: any) => JSON.stringify(s.Action).includes('lambda:InvokeFunction') && JSON.stringify(s.Resource).includes(stack.getLogicalId(fn.node.defaultChild as any)))).toBe(true);
  });

  test('props out of range name the prop, the value and the fix', () => {
    const { stack } = newStack({ id: 'V' });
    expect(() => new ChunkedStage(stack, 'A', { stage: bedrock(stack, SUMMARY_OUTPUT, 'S1'), chunkBy: ChunkBy.pages(0), reducers: good })).toThrow(/\[ChunkedStage V\/A\] `chunkBy` must cut 1 to 1000 pages per chunk, got: ChunkBy.pages\(0\)/);
    expect(() => new ChunkedStage(stack, 'B', { stage: bedrock(stack, SUMMARY_OUTPUT, 'S2'), chunkBy: ChunkBy.tokens(50), reducers: good })).toThrow(/`chunkBy` must give each chunk 100 to 1000000 tokens, got: ChunkBy.tokens\(50\)/);
    expect(() => new ChunkedStage(stack, 'C', { stage: bedrock(stack, SUMMARY_OUTPUT, 'S3'), chunkBy: ChunkBy.pages(5), reducers: good, maxConcurrency: 0 })).toThrow(/`maxConcurrency` must be a whole number from 1 to 1000, got: 0/);
    expect(() => new ChunkedStage(stack, 'D', { stage: bedrock(stack, SUMMARY_OUTPUT, 'S4'), chunkBy: ChunkBy.pages(5), reducers: good, distributedAbove: 500 })).toThrow(/`distributedAbove` must be a whole number from 1 to 100, got: 500/);
  });

  test('the text it cuts must surely be there before it', () => {
    const { stack } = newStack({ id: 'V' });
    expect(() => new Pipeline(stack, 'P', { trigger: uploadTrigger(stack), stages: [lambdaStage(stack, 'Classify'), step(stack)] }))
      .toThrow(/\[Pipeline V\/P\] step 'Chunks' cuts a text into chunks, but no stage before it surely produces a required 'text' pointer/);
    const { stack: s2 } = newStack({ id: 'V' });
    const ocr = new ConditionalStage(s2, 'IfScanned', { stage: extractStage(s2), condition: RuleCondition.stringEquals('Classify.documentType', 'NDA') });
    expect(() => new Pipeline(s2, 'P', { trigger: uploadTrigger(s2), stages: [lambdaStage(s2, 'Classify'), ocr, step(s2)] }))
      .toThrow(/step 'Chunks' cuts a text into chunks, but no stage before it surely produces/);
    const { stack: s3 } = newStack({ id: 'V' });
    expect(() => new Pipeline(s3, 'P', { trigger: uploadTrigger(s3), stages: [extractStage(s3), classifyStage(s3), step(s3, good, { textFrom: 'Classify' })] }))
      .toThrow(/step 'Chunks' cuts the text of 'Classify' \(textFrom\), but its output contract declares no required 'text' pointer/);
    const { stack: s4 } = newStack({ id: 'V' });
    expect(() => new Pipeline(s4, 'P', { trigger: uploadTrigger(s4), stages: [extractStage(s4), step(s4, good, { textFrom: 'Ocr' })] }))
      .toThrow(/step 'Chunks' cuts the text of 'Ocr' \(textFrom\), but no stage before it has that id/);
  });

  test('the stage per chunk still has its input contract checked (the chunk is the latest text)', () => {
    const { stack } = newStack({ id: 'V' });
    const needsClass = InferenceStage.bedrock(stack, 'Summarize', {
      model: BedrockModel.inferenceProfile('us.anthropic.claude-3-5-haiku-20241022-v1:0'),
      prompt: PromptTemplate.fromText('{{results.Classify.documentType}}: {{text}}', { version: '1' }),
      output: StageContract.fromObject(SUMMARY_OUTPUT),
    });
    const chunks = new ChunkedStage(stack, 'Chunks', { stage: needsClass, chunkBy: ChunkBy.pages(10), reducers: good });
    expect(() => new Pipeline(stack, 'P', { trigger: uploadTrigger(stack), stages: [extractStage(stack), chunks] }))
      .toThrow(/stage 'Summarize' has an input contract the stages before it do not satisfy: 'results\.Classify' is required/);
  });
});

describe('ChunkedStage in a Parallel branch', () => {
  const CLAUSES_OUTPUT = {
    type: 'object',
    required: ['riskScore', 'riskClauses'],
    properties: { riskScore: { type: 'number', minimum: 0, maximum: 1 }, riskClauses: { type: 'array', items: { type: 'string' } } },
  };
  const model = BedrockModel.inferenceProfile('us.anthropic.claude-3-5-haiku-20241022-v1:0');
  const build = (optionalClauses = false, ruleOn = 'Clauses.riskScore') => {
    const { stack } = newStack({ id: 'Branches' });
    const summary = new ChunkedStage(stack, 'SummaryChunks', {
      stage: InferenceStage.bedrock(stack, 'Summarize', { model, prompt: PromptTemplate.fromText('Summarize:\n{{text}}', { version: '1' }), output: StageContract.fromObject(SUMMARY_OUTPUT) }),
      chunkBy: ChunkBy.tokens(50_000),
      reducers: [ChunkReducer.concatenate('summary'), ChunkReducer.max('riskScore'), ChunkReducer.union('riskClauses')],
      maxChunks: 20,
      distributedAbove: 20,
    });
    const clauses = new ChunkedStage(stack, 'ClauseChunks', {
      stage: InferenceStage.bedrock(stack, 'Clauses', { model, prompt: PromptTemplate.fromText('Risk clauses:\n{{text}}', { version: '1' }), output: StageContract.fromObject(CLAUSES_OUTPUT) }),
      chunkBy: ChunkBy.pages(20),
      reducers: [ChunkReducer.max('riskScore'), ChunkReducer.union('riskClauses')],
    });
    const analyse = new ParallelStages(stack, 'Analyse', {
      branches: [ParallelBranch.chunked(summary), ParallelBranch.chunked(clauses, { optional: optionalClauses })],
    });
    const after = InferenceStage.lambda(stack, 'Decide', {
      function: new lambda.Function(stack, 'DecideFn', { runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler=async()=>({})') }),
      input: StageContract.fromObject({ type: 'object', required: ['results'], properties: { results: { type: 'object', required: ruleOn === 'Clauses.riskScore' ? ['Clauses'] : [] } } }),
    });
    const pipeline = new Pipeline(stack, 'P', { trigger: uploadTrigger(stack), stages: [extractStage(stack), analyse, after] });
    return { stack, pipeline };
  };

  test('each branch is split → size → map → reduce ending the branch; a failure is re-raised naming the stage; both maps cut the OCR text', () => {
    const { stack } = build();
    const template = Template.fromStack(stack);
    const states = definitionFromTemplate(template).States as { [name: string]: any };
    const parallel = states.Analyse;
    expect(parallel.Type).toBe('Parallel');
    expect(parallel.Next).toBe('Decide');
    const [summaryBranch, clauseBranch] = parallel.Branches;
    expect(summaryBranch.StartAt).toBe('SummaryChunks');
    expect(summaryBranch.States.SummaryChunks.Next).toBe('SummaryChunks-chunks'); // maxChunks <= distributedAbove: no Choice
    expect(summaryBranch.States['SummaryChunks-reduce'].End).toBe(true);
    expect(summaryBranch.States['SummaryChunks-chunks'].ItemProcessor.States.Summarize).toBeDefined();
    expect(clauseBranch.StartAt).toBe('ClauseChunks');
    expect(clauseBranch.States['ClauseChunks-size'].Default).toBe('ClauseChunks-chunks');
    expect(clauseBranch.States['ClauseChunks-chunks-distributed'].Next).toBe('ClauseChunks-reduce');
    for (const name of ['ClauseChunks', 'ClauseChunks-chunks', 'ClauseChunks-chunks-distributed', 'ClauseChunks-reduce']) {
      expect(clauseBranch.States[name].Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Analyse-Clauses-failed' }]);
    }
    expect(clauseBranch.States['Analyse-Clauses-failed'].Parameters['Cause.$']).toMatch(/^States\.Format\('cdk-ai-pipeline stage Clauses failed: \{\}'/);
    expect(clauseBranch.States['Analyse-Clauses-raise']).toMatchObject({ Type: 'Fail', ErrorPath: '$.error.Error' });
    // both chunk functions read the Extract stage's text; the runner metadata lists both steps
    const meta = JSON.stringify(template.toJSON());
    expect(meta).toContain('"step":"SummaryChunks"');
    expect(meta).toContain('"step":"ClauseChunks"');
  });

  test('an optional chunked branch records its failure at results.<stage>, and a later contract that needs its result fails synth', () => {
    const { stack } = build(true, 'none');
    const states = definitionFromTemplate(Template.fromStack(stack)).States as { [name: string]: any };
    const clauseBranch = states.Analyse.Branches[1];
    expect(clauseBranch.States['ClauseChunks-reduce'].Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.results.Clauses', Next: 'Analyse-Clauses-failed' }]);
    expect(clauseBranch.States['Analyse-Clauses-failed']).toMatchObject({ Type: 'Pass', End: true });
    expect(() => build(true)).toThrow(/stage 'Decide' has an input contract the stages before it do not satisfy: 'results\.Clauses' is required.*Clauses may not have run/);
  });

  test('cdk-nag: no unacknowledged AwsSolutions finding (the test\'s own function aside)', () => {
    const { stack } = build();
    const app = stack.node.root as App;
    Template.fromStack(stack);
    const findings = new AwsSolutionsChecks(app).validateScope(stack).violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`))
      .filter((f) => !f.includes('Branches/DecideFn/'));
    expect(findings).toEqual([]);
  });
});
