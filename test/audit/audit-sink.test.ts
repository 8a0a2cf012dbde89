import * as fs from 'fs';
import { App, CfnParameter, Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { AuditSink, AuditSinkProps, Pipeline } from '../../src';
import { flagshipParts, logicalIdOf, newStack } from '../helpers/pipeline-fixture';

function sink(props: AuditSinkProps = {}): { stack: Stack; audit: AuditSink; template: Template } {
  const { stack } = newStack();
  const audit = new AuditSink(stack, 'Audit', props);
  return { stack, audit, template: Template.fromStack(stack) };
}

/** Statements of the policies attached to a role. */
function roleStatements(template: Template, stack: Stack, role: iam.Role): any[] {
  const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: logicalIdOf(stack, role) }] } });
  return Object.values(policies).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
}

describe('AuditSink defaults', () => {
  let stack: Stack;
  let audit: AuditSink;
  let template: Template;
  beforeAll(() => {
    ({ stack, audit, template } = sink());
  });

  test('the records bucket: KMS with the sink key (rotated), versioned, private, SSL only, access-logged', () => {
    const key = logicalIdOf(stack, audit.encryptionKey);
    const records = logicalIdOf(stack, audit.bucket);
    const resources = template.toJSON().Resources;
    expect(resources[key].Type).toBe('AWS::KMS::Key');
    expect(resources[key].Properties.EnableKeyRotation).toBe(true);
    expect(resources[key].DeletionPolicy).toBe('Retain');
    expect(resources[records].Properties).toEqual(expect.objectContaining({
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [key, 'Arn'] } } }] },
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LoggingConfiguration: { DestinationBucketName: { Ref: logicalIdOf(stack, audit.accessLogsBucket) }, LogFilePrefix: 'audit-records/' },
    }));
    expect(resources[records].DeletionPolicy).toBe('Retain');
    expect(resources[records].Properties.ObjectLockEnabled).toBeUndefined();
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: records },
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  test('records move to Standard-IA after 90 days and are kept', () => {
    const rules = template.toJSON().Resources[logicalIdOf(stack, audit.bucket)].Properties.LifecycleConfiguration.Rules;
    expect(rules).toEqual([expect.objectContaining({
      Status: 'Enabled',
      Transitions: [{ StorageClass: 'STANDARD_IA', TransitionInDays: 90 }],
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
    })]);
    expect(rules[0].ExpirationInDays).toBeUndefined();
  });

  test('the access-logs bucket: SSE-S3 (what server access logs support), versioned, SSL only, expiring', () => {
    const logsBucket = logicalIdOf(stack, audit.accessLogsBucket);
    const props = template.toJSON().Resources[logsBucket].Properties;
    expect(props.BucketEncryption).toEqual({ ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] });
    expect(props.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(props.LifecycleConfiguration.Rules).toEqual([expect.objectContaining({ ExpirationInDays: 365 })]);
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logsBucket },
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  test('the audit bus is encrypted with the sink key', () => {
    template.hasResourceProperties('AWS::Events::EventBus', {
      KmsKeyIdentifier: { 'Fn::GetAtt': [logicalIdOf(stack, audit.encryptionKey), 'Arn'] },
    });
  });

  test('the execution log group: encrypted with the sink key, vended-logs name, one year', () => {
    const group = template.toJSON().Resources[logicalIdOf(stack, audit.logGroup)];
    expect(group.Properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [logicalIdOf(stack, audit.encryptionKey), 'Arn'] });
    expect(group.Properties.LogGroupName).toMatch(/^\/aws\/vendedlogs\/states\/[A-Za-z0-9-]+$/);
    expect(group.Properties.RetentionInDays).toBe(365);
    expect(group.DeletionPolicy).toBe('Retain');
  });

  test('CloudWatch Logs of this region may use the key, for this account\'s log groups only', () => {
    const statements = template.toJSON().Resources[logicalIdOf(stack, audit.encryptionKey)].Properties.KeyPolicy.Statement;
    expect(statements).toContainEqual(expect.objectContaining({
      Principal: { Service: 'logs.us-east-1.amazonaws.com' },
      Condition: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':logs:us-east-1:111111111111:log-group:*']] } } },
    }));
  });

  test('the record schema file exists and is a JSON Schema', () => {
    const schema = JSON.parse(fs.readFileSync(AuditSink.RECORD_SCHEMA_FILE, 'utf8'));
    expect(schema.$schema).toMatch(/2020-12/);
  });
});

describe('AuditSink options', () => {
  test('objectLockRetention turns Object Lock on, in governance mode', () => {
    const { stack, audit, template } = sink({ objectLockRetention: Duration.days(365) });
    const props = template.toJSON().Resources[logicalIdOf(stack, audit.bucket)].Properties;
    expect(props.ObjectLockEnabled).toBe(true);
    expect(props.ObjectLockConfiguration).toEqual({ ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 365 } } });
  });

  test('objectLock in COMPLIANCE mode locks each record version for the retention', () => {
    const { stack, audit, template } = sink({ objectLock: { mode: s3.ObjectLockMode.COMPLIANCE, retention: Duration.days(2555) } });
    const props = template.toJSON().Resources[logicalIdOf(stack, audit.bucket)].Properties;
    expect(props.ObjectLockEnabled).toBe(true);
    expect(props.ObjectLockConfiguration).toEqual({ ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 2555 } } });
  });

  test('objectLock without a mode is GOVERNANCE; no objectLock, no Object Lock', () => {
    const { stack, audit, template } = sink({ objectLock: { retention: Duration.days(30) } });
    expect(template.toJSON().Resources[logicalIdOf(stack, audit.bucket)].Properties.ObjectLockConfiguration.Rule)
      .toEqual({ DefaultRetention: { Mode: 'GOVERNANCE', Days: 30 } });
    const plain = sink();
    expect(plain.template.toJSON().Resources[logicalIdOf(plain.stack, plain.audit.bucket)].Properties).not.toHaveProperty('ObjectLockEnabled');
  });

  test('a COMPLIANCE lock with RemovalPolicy.DESTROY is warned about', () => {
    const { stack } = sink({ objectLock: { mode: s3.ObjectLockMode.COMPLIANCE, retention: Duration.days(1) }, removalPolicy: RemovalPolicy.DESTROY });
    const warnings = stack.node.findAll().flatMap((c) => c.node.metadata).filter((m) => m.type === 'aws:cdk:warning').map((m) => String(m.data));
    expect(warnings).toEqual([expect.stringContaining('`objectLock` is in COMPLIANCE mode: deleting the stack will fail')]);
  });

  test('redactFields are kept on the sink for the stages (none when empty)', () => {
    expect(sink({ redactFields: ['results.Summarize.parties', 'results.*.email'] }).audit.redactFields).toEqual(['results.Summarize.parties', 'results.*.email']);
    expect(sink({ redactFields: [] }).audit.redactFields).toBeUndefined();
  });

  test('cloudTrailDataEvents: a trail of S3 data events for the records and the given buckets, encrypted, validated, no management events', () => {
    const { stack } = newStack();
    const documents = new s3.Bucket(stack, 'Documents');
    const audit = new AuditSink(stack, 'Audit', { dataEventBuckets: [documents] });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::CloudTrail::Trail', 1);
    template.hasResourceProperties('AWS::CloudTrail::Trail', {
      IsLogging: true,
      EnableLogFileValidation: true,
      IncludeGlobalServiceEvents: false,
      IsMultiRegionTrail: false,
      KMSKeyId: { 'Fn::GetAtt': [logicalIdOf(stack, audit.encryptionKey), 'Arn'] },
      S3BucketName: { Ref: logicalIdOf(stack, audit.trail!.node.scope!.node.findChild('TrailLogs') as s3.Bucket) },
      EventSelectors: [
        { IncludeManagementEvents: false, ReadWriteType: 'All', DataResources: [{ Type: 'AWS::S3::Object', Values: [{ 'Fn::Join': ['', [{ 'Fn::GetAtt': [logicalIdOf(stack, audit.bucket), 'Arn'] }, '/']] }] }] },
        { IncludeManagementEvents: false, ReadWriteType: 'All', DataResources: [{ Type: 'AWS::S3::Object', Values: [{ 'Fn::Join': ['', [{ 'Fn::GetAtt': [logicalIdOf(stack, documents), 'Arn'] }, '/']] }] }] },
      ],
    });
    // CloudTrail may generate data keys for this account's trails only.
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([Match.objectLike({
          Principal: { Service: 'cloudtrail.amazonaws.com' },
          Action: 'kms:GenerateDataKey*',
          Condition: Match.objectLike({ StringLike: { 'kms:EncryptionContext:aws:cloudtrail:arn': Match.anyValue() } }),
        })]),
      },
    });
    const nag = new AwsSolutionsChecks(stack.node.root as App).validateScope(stack);
    expect(nag.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`)).filter((v) => v.includes('/Audit/'))).toEqual([]);
  });

  test('no trail by default', () => {
    sink().template.resourceCountIs('AWS::CloudTrail::Trail', 0);
  });

  test('expireAfter and infrequentAccessAfter shape the lifecycle', () => {
    const { stack, audit, template } = sink({ infrequentAccessAfter: Duration.days(30), expireAfter: Duration.days(2555) });
    const rules = template.toJSON().Resources[logicalIdOf(stack, audit.bucket)].Properties.LifecycleConfiguration.Rules;
    expect(rules[0]).toEqual(expect.objectContaining({ ExpirationInDays: 2555, Transitions: [{ StorageClass: 'STANDARD_IA', TransitionInDays: 30 }] }));
  });

  test('a given key encrypts records, bus and logs; no key is created', () => {
    const { stack } = newStack();
    const key = new kms.Key(stack, 'MyKey', { enableKeyRotation: true });
    const audit = new AuditSink(stack, 'Audit', { encryptionKey: key, logRetention: logs.RetentionDays.TEN_YEARS, removalPolicy: RemovalPolicy.DESTROY });
    const template = Template.fromStack(stack);
    const keyArn = { 'Fn::GetAtt': [logicalIdOf(stack, key), 'Arn'] };
    template.resourceCountIs('AWS::KMS::Key', 1);
    expect(audit.encryptionKey).toBe(key);
    template.hasResourceProperties('AWS::Events::EventBus', { KmsKeyIdentifier: keyArn });
    template.hasResourceProperties('AWS::Logs::LogGroup', { KmsKeyId: keyArn, RetentionInDays: 3653 });
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [Match.objectLike({ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyArn } })] },
    });
    template.hasResource('AWS::Logs::LogGroup', { DeletionPolicy: 'Delete' });
  });
});

describe('AuditSink grants', () => {
  function withRole(grant: (audit: AuditSink, role: iam.Role) => iam.Grant) {
    const { stack } = newStack();
    const audit = new AuditSink(stack, 'Audit');
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    const result = grant(audit, role);
    const template = Template.fromStack(stack);
    return { stack, audit, role, result, template, statements: roleStatements(template, stack, role) };
  }

  test('grantWriteStageRecords: PutObject under stages/<stage>/ only, GenerateDataKey on the key, PutEvents on the bus', () => {
    const { stack, audit, result, statements } = withRole((a, r) => a.grantWriteStageRecords(r, 'Classify'));
    expect(result.success).toBe(true);
    const bucketArn = { 'Fn::GetAtt': [logicalIdOf(stack, audit.bucket), 'Arn'] };
    const keyArn = { 'Fn::GetAtt': [logicalIdOf(stack, audit.encryptionKey), 'Arn'] };
    expect(statements).toEqual(expect.arrayContaining([
      { Action: 's3:PutObject', Effect: 'Allow', Resource: { 'Fn::Join': ['', [bucketArn, '/stages/Classify/*']] } },
      { Action: 'kms:GenerateDataKey', Effect: 'Allow', Resource: keyArn },
      { Action: 'events:PutEvents', Effect: 'Allow', Resource: { 'Fn::GetAtt': [logicalIdOf(stack, audit.eventBus), 'Arn'] } },
    ]));
    // No read, no delete, no other prefix.
    const s3Actions = statements.flatMap((s) => [s.Action].flat()).filter((a: string) => a.startsWith('s3:'));
    expect(s3Actions).toEqual(['s3:PutObject']);
  });

  test('grantWriteRunRecords: write and read back under runs/ only, with decrypt', () => {
    const { stack, audit, statements } = withRole((a, r) => a.grantWriteRunRecords(r));
    const bucketArn = { 'Fn::GetAtt': [logicalIdOf(stack, audit.bucket), 'Arn'] };
    const keyArn = { 'Fn::GetAtt': [logicalIdOf(stack, audit.encryptionKey), 'Arn'] };
    expect(statements).toEqual(expect.arrayContaining([
      { Action: ['s3:PutObject', 's3:GetObject', 's3:GetObjectVersion'], Effect: 'Allow', Resource: { 'Fn::Join': ['', [bucketArn, '/runs/*']] } },
      { Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Effect: 'Allow', Resource: keyArn },
    ]));
    const s3Actions = statements.flatMap((s) => [s.Action].flat()).filter((a: string) => a.startsWith('s3:'));
    expect(s3Actions).not.toEqual(expect.arrayContaining([expect.stringMatching(/^s3:(Delete|\*)/)]));
  });

  test('grantPutEvents: PutEvents on the bus and GenerateDataKey on its key, nothing else', () => {
    const { stack, audit, statements } = withRole((a, r) => a.grantPutEvents(r));
    expect(statements).toEqual([
      { Action: 'kms:GenerateDataKey', Effect: 'Allow', Resource: { 'Fn::GetAtt': [logicalIdOf(stack, audit.encryptionKey), 'Arn'] } },
      { Action: 'events:PutEvents', Effect: 'Allow', Resource: { 'Fn::GetAtt': [logicalIdOf(stack, audit.eventBus), 'Arn'] } },
    ]);
  });

  test('grantRead (auditors): read and list every record, decrypt with the key, nothing else', () => {
    const { stack, audit, statements } = withRole((a, r) => a.grantRead(r));
    const bucketArn = { 'Fn::GetAtt': [logicalIdOf(stack, audit.bucket), 'Arn'] };
    expect(statements).toEqual([
      { Action: ['s3:GetObject', 's3:GetObjectVersion'], Effect: 'Allow', Resource: { 'Fn::Join': ['', [bucketArn, '/*']] } },
      { Action: 's3:ListBucket', Condition: { StringLike: { 's3:prefix': ['*'] } }, Effect: 'Allow', Resource: bucketArn },
      { Action: 'kms:Decrypt', Effect: 'Allow', Resource: { 'Fn::GetAtt': [logicalIdOf(stack, audit.encryptionKey), 'Arn'] } },
    ]);
  });

  test.each<[string, (audit: AuditSink, role: iam.Role) => iam.Grant]>([
    ['grantWriteStageRecords', (a, r) => a.grantWriteStageRecords(r, 'Classify')],
    ['grantWriteRunRecords', (a, r) => a.grantWriteRunRecords(r)],
    ['grantPutEvents', (a, r) => a.grantPutEvents(r)],
    ['grantRead', (a, r) => a.grantRead(r)],
  ])('%s returns every statement it adds (KMS and ListBucket included)', (_name, grant) => {
    const { stack, result, statements } = withRole(grant);
    const returned = result.principalStatements.map((st) => stack.resolve(st.toStatementJson()));
    const key = (x: any) => JSON.stringify(x);
    // The policy keeps one copy of a statement granted twice (the key of the bucket and of the bus).
    expect([...new Set(returned.map(key))].sort()).toEqual(statements.map(key).sort());
  });
});

describe('AuditSink validation', () => {
  const make = (props: AuditSinkProps) => () => new AuditSink(newStack().stack, 'Audit', props);

  test('durations given as tokens (CloudFormation parameters) are left to S3', () => {
    const { stack } = newStack();
    const days = Token.asNumber(new CfnParameter(stack, 'Days', { type: 'Number' }).value);
    expect(() => new AuditSink(stack, 'Audit', { infrequentAccessAfter: Duration.days(days), expireAfter: Duration.days(days) })).not.toThrow();
  });

  test('infrequentAccessAfter must be at least 30 days', () => {
    expect(make({ infrequentAccessAfter: Duration.days(29) }))
      .toThrow(/\[AuditSink Flagship\/Audit\] `infrequentAccessAfter` must be at least 30 days \(S3's minimum for Standard-IA\), got: 29 days\./);
    expect(make({ infrequentAccessAfter: Duration.days(30) })).not.toThrow();
  });

  test('infrequentAccessAfter given in hours gets the same message', () => {
    expect(make({ infrequentAccessAfter: Duration.hours(36) }))
      .toThrow(/`infrequentAccessAfter` must be at least 30 days \(S3's minimum for Standard-IA\), got: /);
  });

  test('expireAfter must be longer than infrequentAccessAfter', () => {
    expect(make({ expireAfter: Duration.days(90) }))
      .toThrow(/`expireAfter` \(90 days\) must be longer than `infrequentAccessAfter` \(90 days\)\./);
    expect(make({ infrequentAccessAfter: Duration.days(60), expireAfter: Duration.days(45) }))
      .toThrow(/`expireAfter` \(45 days\) must be longer than `infrequentAccessAfter` \(60 days\)\./);
    expect(make({ expireAfter: Duration.days(91) })).not.toThrow();
  });

  test('objectLock.retention must be at least 1 day, in whole days; not together with objectLockRetention', () => {
    expect(make({ objectLock: { retention: Duration.hours(12) } }))
      .toThrow(/\[AuditSink Flagship\/Audit\] `objectLock.retention` must be at least 1 day, got: 12 hours\./);
    expect(make({ objectLock: { retention: Duration.hours(36) } }))
      .toThrow(/`objectLock.retention` must be a whole number of days \(S3 lifecycle and Object Lock count in days\), got: 1 day 12 hours\. Use Duration.days\(...\)\./);
    expect(make({ objectLock: { retention: Duration.days(1) }, objectLockRetention: Duration.days(1) }))
      .toThrow(/\[AuditSink Flagship\/Audit\] `objectLock` and `objectLockRetention` \(deprecated\) are both set: keep only `objectLock`\./);
  });

  test('redactFields must be run-state paths', () => {
    expect(make({ redactFields: ['results.Summarize.parties', 'document.key', 'results.*.people.*.name'] })).not.toThrow();
    expect(make({ redactFields: ['$.results.Summarize.parties'] }))
      .toThrow(/\[AuditSink Flagship\/Audit\] `redactFields` holds '\$\.results\.Summarize\.parties', which is not a run-state path: use dotted steps from 'document' or 'results' .*e\.g\. 'results\.Summarize\.parties'\./);
    expect(make({ redactFields: ['state.x'] })).toThrow(/`redactFields` holds 'state\.x'/);
  });

  test('logDataEvents without the trail names the fix', () => {
    const { stack } = newStack();
    const audit = new AuditSink(stack, 'Audit');
    expect(() => audit.logDataEvents(new s3.Bucket(stack, 'Docs')))
      .toThrow(/\[AuditSink Flagship\/Audit\] logDataEvents\(Flagship\/Docs\) needs the trail: set `cloudTrailDataEvents: true`\./);
  });

  test('objectLockRetention must be at least 1 day', () => {
    expect(make({ objectLockRetention: Duration.hours(12) }))
      .toThrow(/\[AuditSink Flagship\/Audit\] `objectLockRetention` must be at least 1 day, got: 12 hours\./);
    expect(make({ objectLockRetention: Duration.days(1) })).not.toThrow();
  });
});

describe('AuditSink in a pipeline (ADR-0017)', () => {
  test('stages get the redaction paths; the recorder may read each stage\'s records, under those prefixes only', () => {
    const parts = flagshipParts();
    const audit = new AuditSink(parts.stack, 'Audit', { redactFields: ['results.Summarize.summary', 'results.*.email'] });
    const pipeline = new Pipeline(parts.stack, 'Contracts', {
      trigger: parts.trigger, stages: [parts.extract, parts.classify, parts.summarize], routing: parts.routing, auditSink: audit,
    });
    const template = Template.fromStack(parts.stack);
    const functions = Object.values(template.findResources('AWS::Lambda::Function')) as any[];
    const redacting = functions.filter((f) => f.Properties.Environment?.Variables?.AUDIT_REDACT_FIELDS !== undefined);
    expect(redacting).toHaveLength(3);
    for (const f of redacting) expect(JSON.parse(f.Properties.Environment.Variables.AUDIT_REDACT_FIELDS)).toEqual(['results.Summarize.summary', 'results.*.email']);

    const bucketArn = { 'Fn::GetAtt': [logicalIdOf(parts.stack, audit.bucket), 'Arn'] };
    const reads = roleStatements(template, parts.stack, pipeline.recorder.role as iam.Role)
      .filter((st) => JSON.stringify(st.Action) === JSON.stringify(['s3:GetObject', 's3:GetObjectVersion']));
    expect(reads.map((st) => st.Resource)).toEqual(expect.arrayContaining(['Extract', 'Classify', 'Summarize']
      .map((id) => ({ 'Fn::Join': ['', [bucketArn, `/stages/${id}/*`]] }))));
    expect(JSON.stringify(reads)).not.toContain('"/stages/*"');
  });
});
