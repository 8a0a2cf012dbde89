import { App, Duration } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import {
  ConditionalStage, InferenceStage, ParallelBranch, ParallelStages, Pipeline, PipelineGate,
  RouteDestination, RoutingPolicy, RoutingRule, RuleCondition, StageContract,
} from '../../src';
import { composedStack } from '../helpers/composition-app';
import { definitionFromTemplate } from '../helpers/local-sfn';
import { classifyStage, extractStage, newStack, summarizeStage, uploadTrigger } from '../helpers/pipeline-fixture';

/** A Lambda stage whose input contract requires `results.<stage>.<field>`. */
function reader(scope: any, id: string, stage: string, field: string) {
  const fn = new lambda.Function(scope, `${id}Fn`, { runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler=async()=>({})') });
  return InferenceStage.lambda(scope, id, {
    function: fn,
    input: StageContract.fromObject({
      type: 'object',
      required: ['results'],
      properties: { results: { type: 'object', required: [stage], properties: { [stage]: { type: 'object', required: [field] } } } },
    }),
    output: StageContract.fromObject({ type: 'object', properties: { ok: { type: 'boolean' } } }),
  });
}

describe('composition: the state shapes', () => {
  const { stack } = composedStack(new App({ builtinCloudFormationValidation: false }));
  const template = Template.fromStack(stack);
  const definition = definitionFromTemplate(template);

  test('the parallel step merges its branches\' results back into $.results', () => {
    const analyze = definition.States.Analyze;
    expect(analyze).toMatchObject({
      Type: 'Parallel',
      ResultSelector: { 'document.$': '$[0].document', 'results.$': 'States.JsonMerge($[0].results, $[1].results, false)' },
      Next: 'Route',
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'RecordFailure' }],
    });
    expect(analyze.ResultPath).toBeUndefined();
    expect(analyze.Branches.map((b: any) => b.StartAt)).toEqual(['Summarize', 'Clauses']);
    // The required branch re-raises its stage's error with a cause naming the stage; the optional one
    // records its error and ends.
    expect(analyze.Branches[0].States.Summarize.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Analyze-Summarize-failed' }]);
    expect(analyze.Branches[0].States['Analyze-Summarize-failed'].Parameters['Cause.$']).toContain('cdk-ai-pipeline stage Summarize failed: {}');
    expect(analyze.Branches[0].States['Analyze-Summarize-raise']).toMatchObject({ Type: 'Fail', ErrorPath: '$.error.Error', CausePath: '$.error.Cause' });
    expect(analyze.Branches[1].States.Clauses.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.results.Clauses', Next: 'Analyze-Clauses-failed' }]);
    expect(analyze.Branches[1].States['Analyze-Clauses-failed']).toMatchObject({ Type: 'Pass', End: true });
  });

  test('the conditional stage is a Choice: the stage, or straight on', () => {
    expect(definition.States.IfGerman).toEqual(expect.objectContaining({
      Type: 'Choice',
      Choices: [expect.objectContaining({ Variable: '$.results.Score.language', StringEquals: 'de', Next: 'Translate' })],
      Default: 'Analyze',
    }));
    expect(definition.States.Translate.Next).toBe('Analyze');
  });

  test('the gate delivers to its destination and ends with the run record, else goes on', () => {
    expect(definition.States.FraudGate).toEqual(expect.objectContaining({
      Type: 'Choice',
      Choices: [expect.objectContaining({ Variable: '$.results.Score.fraudScore', NumericGreaterThanEquals: 0.9, Next: 'FraudGate-known-fraud' })],
      Default: 'IfGerman',
    }));
    expect(definition.States['FraudGate-known-fraud']).toMatchObject({ Next: 'RecordRun', Catch: [{ Next: 'RecordFailure' }] });
  });

  test('routing reads an optional stage\'s flags only when present: a failed optional Bedrock stage blocks auto-approve', () => {
    const { stack: s2 } = newStack({ id: 'OptionalBedrock' });
    const summarize = summarizeStage(s2, 'Summarize', 'Summarize:\n{{text}}');
    const classify = classifyStage(s2);
    const routing = new RoutingPolicy(s2, 'Route', {
      rules: [RoutingRule.when('clean', RuleCondition.numberBelow('Summarize.riskScore', 0.2), RouteDestination.autoApprove())],
      defaultRoute: RouteDestination.sqsQueue('review', new sqs.Queue(s2, 'Review', { enforceSSL: true })),
    });
    new Pipeline(s2, 'P', {
      trigger: uploadTrigger(s2),
      stages: [extractStage(s2), new ParallelStages(s2, 'Both', { branches: [ParallelBranch.optional([summarize]), ParallelBranch.required([classify])] })],
      routing,
    });
    const rule = definitionFromTemplate(Template.fromStack(s2)).States.Route.Choices[0];
    const text = JSON.stringify(rule);
    // The rule's own path may be absent (IsPresent guard) ...
    expect(rule.And[0]).toEqual({ And: [{ Variable: '$.results.Summarize.riskScore', IsPresent: true }, { Variable: '$.results.Summarize.riskScore', NumericLessThan: 0.2 }] });
    // ... and the screening guard tolerates a skipped stage but requires the flags when it ran.
    expect(text).toContain('{"Not":{"Variable":"$.results.Summarize","IsPresent":true}}');
    expect(text).toContain('{"Variable":"$.results.Summarize.screening.promptInjection","IsPresent":true},{"Variable":"$.results.Summarize.screening.promptInjection","BooleanEquals":false}');
  });

  test('the runner metadata lists the stages of branches and conditional steps, and the gate\'s destination', () => {
    const sm = Object.values<any>(template.findResources('AWS::StepFunctions::StateMachine'))[0];
    const meta = sm.Metadata['cdk-ai-pipeline'];
    expect(meta.stages.map((s: any) => s.id)).toEqual(['Ocr', 'Score', 'Translate', 'Summarize', 'Clauses']);
    expect(meta.destinations.map((d: any) => [d.state, d.destination])).toEqual([
      ['FraudGate-known-fraud', 'fraud-team'], ['Route-high-risk', 'legal'], ['Route-clean', 'fast-track'], ['Route-default', 'review'],
    ]);
  });
});

describe('composition: contracts follow the graph', () => {
  const build = (stages: (s: any) => any[]) => {
    const { stack } = newStack({ id: 'C' });
    return () => new Pipeline(stack, 'P', { trigger: uploadTrigger(stack), stages: stages(stack) });
  };
  const parallel = (s: any, optional: boolean) => new ParallelStages(s, 'Both', {
    branches: [ParallelBranch.required([classifyStage(s)]), optional ? ParallelBranch.optional([classifyStage(s, 'Tags')]) : ParallelBranch.required([classifyStage(s, 'Tags')])],
  });

  test('a later stage may require a field of a required branch\'s stage', () => {
    expect(build((s) => [extractStage(s), parallel(s, true), reader(s, 'Use', 'Classify', 'documentType')])).not.toThrow();
    expect(build((s) => [extractStage(s), parallel(s, false), reader(s, 'Use', 'Tags', 'documentType')])).not.toThrow();
  });

  test('a later stage that requires a field of an optional branch\'s stage fails synth', () => {
    expect(build((s) => [extractStage(s), parallel(s, true), reader(s, 'Use', 'Tags', 'documentType')]))
      .toThrow(/\[Pipeline C\/P\] stage 'Use' has an input contract the stages before it do not satisfy: 'results\.Tags' is required, but the producing contract declares it optional \(Tags may not have run: conditional stages and stages of optional branches give optional results\)\. Fix: put a stage/);
  });

  test('a stage in a branch does not see its sibling branch', () => {
    const { stack: s } = newStack({ id: 'C' });
    const steps = [extractStage(s), new ParallelStages(s, 'Both', { branches: [ParallelBranch.required([classifyStage(s)]), ParallelBranch.required([reader(s, 'Use', 'Classify', 'documentType')])] })];
    expect(() => new Pipeline(s, 'P', { trigger: uploadTrigger(s), stages: steps }))
      .toThrow(/stage 'Use' has an input contract the stages before it do not satisfy: 'results\.Classify' is required, but no earlier contract declares it/);
  });

  test('a later stage that requires a conditional stage\'s field fails synth; the condition is checked too', () => {
    const cond = (s: any, c: RuleCondition) => new ConditionalStage(s, 'IfNda', { stage: classifyStage(s, 'Tags'), condition: c });
    expect(build((s) => [extractStage(s), classifyStage(s), cond(s, RuleCondition.stringEquals('Classify.documentType', 'NDA')), reader(s, 'Use', 'Classify', 'documentType')])).not.toThrow();
    expect(build((s) => [extractStage(s), classifyStage(s), cond(s, RuleCondition.stringEquals('Classify.documentType', 'NDA')), reader(s, 'Use', 'Tags', 'documentType')]))
      .toThrow(/stage 'Use' has an input contract the stages before it do not satisfy: 'results\.Tags' is required, but the producing contract declares it optional \(Tags may not have run/);
    expect(build((s) => [extractStage(s), classifyStage(s), cond(s, RuleCondition.stringEquals('Classify.documentType', 'LEASE'))]))
      .toThrow(/\[ConditionalStage C\/IfNda\] rule 'condition of Tags' compares 'Classify\.documentType' with \["LEASE"\], which its contract never allows/);
    expect(build((s) => [extractStage(s), cond(s, RuleCondition.stringEquals('Classify.documentType', 'NDA')), classifyStage(s)]))
      .toThrow(/\[ConditionalStage C\/IfNda\] rule 'condition of Tags' reads 'Classify\.documentType', which no stage's output contract declares/);
  });

  test('a gate\'s rules read only what the stages before it declare', () => {
    const queue = (s: any) => RouteDestination.sqsQueue('escalate', new sqs.Queue(s, 'Q', { enforceSSL: true }));
    expect(build((s) => [extractStage(s), new PipelineGate(s, 'Gate', { rules: [RoutingRule.when('x', RuleCondition.numberAbove('Classify.confidence', 0.5), queue(s))] }), classifyStage(s)]))
      .toThrow(/\[PipelineGate C\/Gate\] rule 'x' reads 'Classify\.confidence', which no stage's output contract declares/);
    expect(build((s) => [extractStage(s), classifyStage(s), new PipelineGate(s, 'Gate', { rules: [RoutingRule.when('x', RuleCondition.stringEquals('Classify.confidence', 'high'), queue(s))] })]))
      .toThrow(/rule 'x' compares 'Classify\.confidence' as a string, but its contract declares number/);
  });
});

describe('composition: validation', () => {
  test('a gate cannot auto-approve', () => {
    const { stack } = newStack({ id: 'V' });
    expect(() => new PipelineGate(stack, 'Gate', { rules: [RoutingRule.when('ok', RuleCondition.numberBelow('Classify.confidence', 0.1), RouteDestination.autoApprove())] }))
      .toThrow(/\[PipelineGate V\/Gate\] rule 'ok' leads to RouteDestination\.autoApprove\('auto-approve'\), but a gate between stages cannot auto-approve/);
    expect(() => new PipelineGate(stack, 'Empty', { rules: [] })).toThrow(/\[PipelineGate V\/Empty\] `rules` must hold at least one rule, got: \[\]/);
  });

  test('a parallel step needs 2 to 10 non-empty branches with distinct stages', () => {
    const { stack } = newStack({ id: 'V' });
    const c = classifyStage(stack);
    expect(() => new ParallelStages(stack, 'One', { branches: [ParallelBranch.required([c])] })).toThrow(/\[ParallelStages V\/One\] `branches` must hold 2 to 10 branches, got: 1/);
    expect(() => new ParallelStages(stack, 'Empty', { branches: [ParallelBranch.required([c]), ParallelBranch.optional([])] })).toThrow(/`branches\[1\]` holds no stage, got: \[\]/);
    expect(() => new ParallelStages(stack, 'Twice', { branches: [ParallelBranch.required([c]), ParallelBranch.optional([c])] })).toThrow(/`branches` holds the stage 'Classify' twice/);
  });
});

describe('composition: cdk-nag', () => {
  test('the composed pipeline has no unacknowledged AwsSolutions finding (the test\'s own queues aside)', () => {
    const app = new App({ builtinCloudFormationValidation: false });
    const { stack } = composedStack(app);
    Template.fromStack(stack);
    const report = new AwsSolutionsChecks(app).validateScope(stack);
    const findings = report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`))
      // The test app's destination queues have no DLQ: the user's resources, not the library's.
      .filter((f) => !/^AwsSolutions-SQS3 at Composed\/(Fraud|Legal|Review)\//.test(f));
    expect(findings).toEqual([]);
  });
});

describe('composition: pipeline-level checks', () => {
  test('the run timeout covers the longest branch of a parallel step, not every branch added up', () => {
    const make = (timeout: Duration) => () => {
      const { stack } = newStack({ id: 'T' });
      const lambdaStage = (id: string) => InferenceStage.lambda(stack, id, {
        function: new lambda.Function(stack, `${id}Fn`, { runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler=async()=>({})') }),
        timeout: Duration.minutes(10),
      });
      const both = new ParallelStages(stack, 'Both', { branches: [ParallelBranch.required([lambdaStage('A'), lambdaStage('B')]), ParallelBranch.required([lambdaStage('C')])] });
      new Pipeline(stack, 'P', { trigger: uploadTrigger(stack), stages: [both], timeout });
    };
    expect(make(Duration.minutes(20))).not.toThrow();
    expect(make(Duration.minutes(19))).toThrow(/\[Pipeline T\/P\] `timeout` \(19 minutes\) is shorter than the stages' timeouts added up \(20 minutes\)/);
  });

  test('a step may not share its name with a stage', () => {
    const { stack } = newStack({ id: 'N' });
    const gate = new PipelineGate(stack, 'Gate', { stateName: 'Classify', rules: [RoutingRule.when('x', RuleCondition.numberAbove('Classify2.confidence', 0.5), RouteDestination.sqsQueue('q', new sqs.Queue(stack, 'Q', { enforceSSL: true })))] });
    expect(() => new Pipeline(stack, 'P', { trigger: uploadTrigger(stack), stages: [extractStage(stack), classifyStage(stack, 'Classify2'), gate, classifyStage(stack)] }))
      .toThrow(/\[Pipeline N\/P\] `stages` holds a step named 'Classify' and a stage with that id/);
  });

  test('a gate and the routing policy may not name two different destinations alike', () => {
    const { stack } = newStack({ id: 'D' });
    const q = (id: string) => RouteDestination.sqsQueue('review', new sqs.Queue(stack, id, { enforceSSL: true }));
    const same = q('Q1');
    const gate = (d: RouteDestination) => new PipelineGate(stack, `Gate${d === same ? 1 : 2}`, { rules: [RoutingRule.when('x', RuleCondition.numberAbove('Classify.confidence', 0.9), d)] });
    let policies = 0;
    const routing = () => new RoutingPolicy(stack, `R${++policies}`, { rules: [], defaultRoute: same });
    expect(() => new Pipeline(stack, 'Ok', { trigger: uploadTrigger(stack, 'U1'), stages: [extractStage(stack, 'E1'), classifyStage(stack, 'Classify'), gate(same)], routing: routing() })).not.toThrow();
    expect(() => new Pipeline(stack, 'Bad', { trigger: uploadTrigger(stack, 'U2'), stages: [extractStage(stack, 'E2'), classifyStage(stack, 'C2'), gate(q('Q2'))], routing: routing() }))
      .toThrow(/\[Pipeline D\/Bad\] two different destinations are named 'review'/);
  });
});
