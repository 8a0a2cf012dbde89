import { flattenReference, wildcardFindings } from '../../src/private/acknowledge';

describe('flattenReference', () => {
  test('strings, with ${} written as <>', () => {
    expect(flattenReference(undefined)).toBe('');
    expect(flattenReference('*')).toBe('*');
    expect(flattenReference('arn:${AWS::Partition}:s3:::b/*')).toBe('arn:<AWS::Partition>:s3:::b/*');
  });

  test('Fn::GetAtt, Ref, Fn::Join, Fn::Sub, Fn::ImportValue', () => {
    expect(flattenReference({ 'Fn::GetAtt': ['Working66F7DD3F', 'Arn'] })).toBe('<Working66F7DD3F.Arn>');
    expect(flattenReference({ Ref: 'AWS::Partition' })).toBe('<AWS::Partition>');
    expect(flattenReference({ 'Fn::Join': ['', [{ 'Fn::GetAtt': ['Working66F7DD3F', 'Arn'] }, '/stages/Extract/*']] }))
      .toBe('<Working66F7DD3F.Arn>/stages/Extract/*');
    expect(flattenReference({ 'Fn::Join': [':', ['arn', { Ref: 'AWS::Partition' }, 'bedrock']] })).toBe('arn:<AWS::Partition>:bedrock');
    expect(flattenReference({ 'Fn::Sub': 'arn:${AWS::Partition}:logs:*' })).toBe('arn:<AWS::Partition>:logs:*');
    expect(flattenReference({ 'Fn::ImportValue': 'SharedBucketArn' })).toBe('SharedBucketArn');
  });

  test('anything else is written as JSON', () => {
    expect(flattenReference({ 'Fn::Select': [0, ['a']] })).toBe('{"Fn::Select":[0,["a"]]}');
  });
});

describe('wildcardFindings', () => {
  const doc = {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: '*' },
      { Effect: 'Allow', Action: ['s3:GetObject*', 's3:PutObject'], Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': ['Working66F7DD3F', 'Arn'] }, '/stages/Extract/*']] } },
      { Effect: 'Allow', Action: 'bedrock:InvokeModel', Resource: ['arn:aws:bedrock:us-east-1::foundation-model/x.y'] },
      { Effect: 'Deny', Action: '*', Resource: '*' },
    ],
  };

  test('lists each wildcard action and resource of Allow statements, with the statement actions', () => {
    expect(wildcardFindings(doc)).toEqual([
      { finding: 'Resource::*', actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'] },
      { finding: 'Action::s3:GetObject*', actions: ['s3:GetObject*', 's3:PutObject'] },
      { finding: 'Resource::<Working66F7DD3F.Arn>/stages/Extract/*', actions: ['s3:GetObject*', 's3:PutObject'] },
    ]);
  });

  test('a single statement object, no statements, or no document', () => {
    expect(wildcardFindings({ Statement: { Effect: 'Allow', Action: 'kms:*', Resource: 'arn:aws:kms:us-east-1:1:key/k' } }))
      .toEqual([{ finding: 'Action::kms:*', actions: ['kms:*'] }]);
    expect(wildcardFindings({ Statement: [] })).toEqual([]);
    expect(wildcardFindings(undefined)).toEqual([]);
  });
});
