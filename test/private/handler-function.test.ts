import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { countAlarm, handlerFunction, RECORDER_RETRY, taskRetry } from '../../src/private/handler-function';
import { LAMBDA_TRANSIENT_ERRORS } from '../../src/shared';
import { newStack } from '../helpers/construct-test-kit';
import { buildPipelineStack, templateOf } from '../helpers/pipeline-fixture';

describe('handlerFunction', () => {
  test('Node 24 on ARM, traced, JSON logs kept a year, its own role, ids derived from the function id', () => {
    const stack = newStack();
    const { fn, role } = handlerFunction(stack, 'Worker', {
      description: 'does work',
      code: lambda.Code.fromInline('exports.handler = 1'),
      timeout: Duration.seconds(30),
      memorySize: 256,
      environment: { A: 'b' },
    });
    expect(fn.node.id).toBe('Worker');
    expect(role.node.id).toBe('WorkerRole');
    expect(stack.node.tryFindChild('WorkerLogs')).toBeDefined();
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      Timeout: 30,
      MemorySize: 256,
      LoggingConfig: Match.objectLike({ LogFormat: 'JSON' }),
      Environment: { Variables: { A: 'b' } },
      Description: 'does work',
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
    template.hasResourceProperties('AWS::IAM::Role', { Description: 'does work' });
  });

  test('the pipeline stack: every function of the library comes from the factory and none sets POWERTOOLS_SERVICE_NAME (the loggers name their service)', () => {
    const template = templateOf(buildPipelineStack());
    const functions = Object.values(template.findResources('AWS::Lambda::Function')) as any[];
    expect(functions.length).toBeGreaterThanOrEqual(5);
    for (const fn of functions) {
      expect(fn.Properties.Architectures).toEqual(['arm64']);
      expect(fn.Properties.TracingConfig).toEqual({ Mode: 'Active' });
      expect(Object.keys(fn.Properties.Environment?.Variables ?? {})).not.toContain('POWERTOOLS_SERVICE_NAME');
    }
  });
});

describe('the shared retry and alarm shapes', () => {
  test('taskRetry: Lambda transient errors first, then the service errors, once each, full jitter', () => {
    expect(taskRetry(RECORDER_RETRY, ['ThrottlingException', 'Lambda.ServiceException'])).toEqual({
      errors: [...LAMBDA_TRANSIENT_ERRORS, 'ThrottlingException'],
      interval: Duration.seconds(1),
      maxAttempts: 4,
      backoffRate: 2,
      maxDelay: Duration.seconds(20),
      jitterStrategy: 'FULL',
    });
  });

  test('countAlarm: at least 1 in one period; missing data is not a breach', () => {
    const stack = newStack();
    countAlarm(stack, 'A', new cloudwatch.Metric({ namespace: 'X', metricName: 'Y' }), 'something failed');
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmDescription: 'something failed',
      Threshold: 1,
      EvaluationPeriods: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
  });
});
