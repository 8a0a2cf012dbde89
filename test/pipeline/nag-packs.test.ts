/**
 * The five cdk-nag packs (AwsSolutions, Serverless, HIPAA Security, NIST 800-53 R5, PCI DSS 3.2.1)
 * on the flagship example stack, and the deployment settings a locked-down account asks for.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { CallCenterStack } from '../../examples/call-center/lib/call-center-stack';
import { FraudScreeningStack } from '../../examples/fraud-screening/lib/fraud-screening-stack';
import { LegalContractsStack } from '../../examples/legal-contracts/lib/legal-contracts-stack';
import { AuditSink } from '../../src';
import { stateMachineOf } from '../helpers/construct-test-kit';
import { describeFindings, FIVE_PACKS, fivePackFindings, packSummary } from '../helpers/nag-packs';
import { buildPipelineStack, newStack, summarizeStage, templateOf } from '../helpers/pipeline-fixture';

describe('five cdk-nag packs on the flagship example stack', () => {
  let app: App;
  let stack: Stack;
  let template: Template;
  beforeAll(() => {
    app = new App({ builtinCloudFormationValidation: false } as any);
    stack = new LegalContractsStack(app, 'Flagship', { env: { account: '111111111111', region: 'us-east-1' } });
    template = Template.fromStack(stack);
  });

  test('every pack reports zero unacknowledged findings', () => {
    const findings = fivePackFindings(app, stack);
    // The summary line: the count per pack.
    process.stdout.write(`five cdk-nag packs on examples/legal-contracts: ${packSummary(findings)}\n`);
    expect(describeFindings(findings)).toBe('');
    for (const pack of FIVE_PACKS) expect(findings[pack]).toHaveLength(0);
  });

  test('the packs had something to check, and the fixes are real resources, not acknowledgements', () => {
    const groups = Object.values(template.findResources('AWS::Logs::LogGroup')) as any[];
    expect(groups.length).toBeGreaterThanOrEqual(10);
    // Every log group carries a customer-managed key.
    expect(groups.filter((g) => g.Properties.KmsKeyId === undefined)).toEqual([]);
    // Every alarm notifies someone.
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as any[];
    expect(alarms.length).toBeGreaterThanOrEqual(4);
    expect(alarms.filter((a) => !(a.Properties.AlarmActions?.length > 0))).toEqual([]);
    // The alarm topic is encrypted; the backstop rule's target has a dead-letter queue.
    template.hasResourceProperties('AWS::SNS::Topic', { DisplayName: Match.stringLikeRegexp('alarms$'), KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({ source: ['aws.states'] }),
      Targets: [Match.objectLike({ DeadLetterConfig: { Arn: Match.anyValue() } })],
    });
  });

  test('the library logs key lets CloudWatch Logs use it for this account\'s log groups only', () => {
    template.hasResourceProperties('AWS::KMS::Key', {
      Description: 'cdk-ai-pipeline: the log groups of the library\'s functions and APIs',
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([Match.objectLike({
          Principal: { Service: 'logs.us-east-1.amazonaws.com' },
          Condition: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':logs:us-east-1:111111111111:log-group:*']] } } },
        })]),
      },
    });
  });

  test('a user\'s own log group without a key IS reported by the packs', () => {
    const a = new App({ builtinCloudFormationValidation: false } as any);
    const s = new LegalContractsStack(a, 'Flagship', { env: { account: '111111111111', region: 'us-east-1' } });
    new logs.LogGroup(s, 'UsersOwn', { retention: logs.RetentionDays.ONE_YEAR });
    Template.fromStack(s);
    const findings = fivePackFindings(a, s);
    expect(findings['HIPAA.Security'].map((f) => `${f.rule} at ${f.path}`)).toEqual(['HIPAA.Security-CloudWatchLogGroupEncrypted at Flagship/UsersOwn/Resource']);
  });
});

describe('a stand-alone stage in a state machine of the user\'s own', () => {
  test('the library\'s resources (stage, shared working bucket and audit sink, logs key) pass the five packs', () => {
    const app = new App({ builtinCloudFormationValidation: false } as any);
    const stack = new Stack(app, 'Standalone', { env: { account: '111111111111', region: 'us-east-1' } });
    const stage = summarizeStage(stack);
    stateMachineOf(stage);
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Lambda::Function', 1);
    const findings = fivePackFindings(app, stack);
    // The user's state machine (Standalone/SM) is the user's to configure; everything else is the library's.
    const ours = Object.fromEntries(FIVE_PACKS.map((p) => [p, findings[p].filter((f) => !f.path.startsWith('Standalone/SM/'))])) as typeof findings;
    process.stdout.write(`five cdk-nag packs on a stand-alone stage: ${packSummary(ours)}\n`);
    expect(describeFindings(ours)).toBe('');
  });
});

describe('deployment settings for locked-down accounts', () => {
  test('permissionsBoundary, roleNamePrefix and functionConcurrency reach every role and function of the pipeline, trigger and stages', () => {
    const plain = templateOf(buildPipelineStack());
    expect(Object.values(plain.findResources('AWS::IAM::Role')).filter((r: any) => r.Properties.PermissionsBoundary)).toEqual([]);

    const withSettings = buildPipelineStack({
      pipelineProps: {
        permissionsBoundary: iam.ManagedPolicy.fromManagedPolicyName(new Stack(), 'B', 'app-boundary'),
        roleNamePrefix: 'app-',
        functionConcurrency: 5,
      },
    });
    const t = templateOf(withSettings);
    const roles = Object.entries(t.findResources('AWS::IAM::Role')) as Array<[string, any]>;
    expect(roles.length).toBeGreaterThan(5);
    for (const [id, role] of roles) {
      expect([id, role.Properties.PermissionsBoundary]).toEqual([id, { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', expect.anything(), ':policy/app-boundary']] }]);
      expect([id, role.Properties.RoleName]).toEqual([id, expect.stringMatching(/^app-.{1,60}$/)]);
    }
    const names = roles.map(([, r]) => r.Properties.RoleName);
    expect(new Set(names).size).toBe(names.length);
    const fns = Object.entries(t.findResources('AWS::Lambda::Function')) as Array<[string, any]>;
    expect(fns.length).toBeGreaterThanOrEqual(5);
    for (const [id, fn] of fns) expect([id, fn.Properties.ReservedConcurrentExecutions]).toEqual([id, 5]);
  });

  test('a passed alarm topic gets every alarm, and the pipeline makes no topic of its own', () => {
    const arn = 'arn:aws:sns:us-east-1:111111111111:on-call';
    const plain = templateOf(buildPipelineStack());
    const t = templateOf(buildPipelineStack({ pipelineProps: { alarmTopic: sns.Topic.fromTopicArn(new Stack(), 'OnCall', arn) } }));
    expect(Object.keys(t.findResources('AWS::SNS::Topic')).length).toBe(Object.keys(plain.findResources('AWS::SNS::Topic')).length - 1);
    const alarms = Object.values(t.findResources('AWS::CloudWatch::Alarm')) as any[];
    expect(alarms.length).toBeGreaterThanOrEqual(5);
    for (const alarm of alarms) expect(alarm.Properties.AlarmActions).toEqual([arn]);
  });

  test.each([
    [{ functionConcurrency: 0 }, /`functionConcurrency` must be a whole number of at least 1, got: 0/],
    [{ functionConcurrency: 2.5 }, /`functionConcurrency` must be a whole number of at least 1, got: 2.5/],
    [{ roleNamePrefix: 'bad prefix/' }, /`roleNamePrefix` must be 1-32 characters .* got: 'bad prefix\/'/],
  ])('bad settings fail synth naming the construct and the prop: %j', (props, message) => {
    expect(() => buildPipelineStack({ pipelineProps: props })).toThrow(message);
    expect(() => buildPipelineStack({ pipelineProps: props })).toThrow(/\[Pipeline .*\/Contracts\]/);
  });
});

describe('an imported audit key', () => {
  test('fails synth with the key-policy statement CloudWatch Logs needs', () => {
    const { stack } = newStack();
    const key = kms.Key.fromKeyArn(stack, 'Imported', 'arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab');
    expect(() => new AuditSink(stack, 'Audit', { encryptionKey: key })).toThrow(/is an imported key whose policy the sink cannot change.*kms:EncryptionContext:aws:logs:arn.*set `importedKeyAllowsLogs: true`/);
  });

  test('is accepted when the caller states its policy allows CloudWatch Logs', () => {
    const { stack } = newStack();
    const key = kms.Key.fromKeyArn(stack, 'Imported', 'arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab');
    new AuditSink(stack, 'Audit', { encryptionKey: key, importedKeyAllowsLogs: true });
    Template.fromStack(stack).hasResourceProperties('AWS::Logs::LogGroup', { KmsKeyId: 'arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab' });
  });
});

describe('five cdk-nag packs on the other examples', () => {
  const env = { account: '111111111111', region: 'us-east-1' };
  test.each([
    ['examples/call-center', (app: App) => new CallCenterStack(app, 'Example', { env })],
    ['examples/fraud-screening', (app: App) => new FraudScreeningStack(app, 'Example', { env })],
  ])('%s: every pack reports zero unacknowledged findings', (name, make) => {
    const app = new App({ builtinCloudFormationValidation: false });
    const stack: Stack = make(app);
    Template.fromStack(stack);
    const findings = fivePackFindings(app, stack);
    process.stdout.write(`five cdk-nag packs on ${name}: ${packSummary(findings)}\n`);
    expect(describeFindings(findings)).toBe('');
  });
});
