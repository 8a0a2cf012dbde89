/**
 * The `network` option: every library function in private isolated subnets behind a closed security
 * group, the VPC endpoints its role's calls need (and no others), the five cdk-nag packs clean without
 * the `LambdaInsideVPC` acknowledgement.
 */
import * as fs from 'fs';
import * as path from 'path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { LegalContractsStack } from '../../examples/legal-contracts/lib/legal-contracts-stack';
import {
  BedrockModel, ChunkBy, ChunkedStage, ChunkReducer, InferenceStage, ParallelBranch, ParallelStages, Pipeline, PrivateNetworkOptions, PromptTemplate,
  ServiceQuota, StageContract, StandaloneStageOptions,
} from '../../src';
import { endpointOf } from '../../src/private/network';
import { SUMMARY_OUTPUT } from '../helpers/chunked-app';
import { stateMachineOf } from '../helpers/construct-test-kit';
import { describeFindings, FIVE_PACKS, fivePackFindings, packSummary } from '../helpers/nag-packs';
import { classifyStage, extractStage, INFERENCE_PROFILE, summaryContract, uploadTrigger } from '../helpers/pipeline-fixture';

const ENV = { account: '111111111111', region: 'us-east-1' };
const FUNCTIONS_SG = /^CdkAiPipelineNetwork.*Functions[0-9A-F]{8}$/;
const ENDPOINTS_SG = /^CdkAiPipelineNetwork.*Endpoints[0-9A-F]{8}$/;

/** The ids of the library's functions (CDK's own custom-resource providers aside). */
function libraryFunctions(template: Template): Array<[string, any]> {
  return (Object.entries(template.findResources('AWS::Lambda::Function')) as Array<[string, any]>)
    .filter(([id]) => !id.startsWith('Custom'));
}

/** The ServiceName suffixes (`states`, `s3`, ...) of the template's VPC endpoints. */
function endpointServices(template: Template): string[] {
  return (Object.values(template.findResources('AWS::EC2::VPCEndpoint')) as any[])
    .map((e) => serviceOf(e.Properties.ServiceName)).sort();
}

/** `states` of 'com.amazonaws.us-east-1.states'; `s3` of a gateway's `Fn::Join` on the Region. */
function serviceOf(name: any): string {
  return typeof name === 'string' ? name.replace('com.amazonaws.us-east-1.', '') : String(name['Fn::Join'][1].at(-1)).replace(/^\./, '');
}

/** The logical id of the one resource of a type whose id matches. */
function idOf(template: Template, type: string, pattern: RegExp): string {
  const ids = Object.keys(template.findResources(type)).filter((id) => pattern.test(id));
  expect(ids).toHaveLength(1);
  return ids[0];
}

/** A user's VPC: private isolated subnets only, flow logs to a log group (the packs check the VPC too). */
function userVpc(stack: Stack, id = 'Vpc'): ec2.Vpc {
  const vpc = new ec2.Vpc(stack, id, {
    maxAzs: 2,
    natGateways: 0,
    restrictDefaultSecurityGroup: true,
    subnetConfiguration: [{ name: 'Isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
  });
  vpc.addFlowLog('FlowLogs', { destination: ec2.FlowLogDestination.toCloudWatchLogs(new logs.LogGroup(stack, `${id}FlowLogs`)) });
  return vpc;
}

/** A stand-alone Bedrock stage in a state machine of the user's own. */
function standaloneStage(stack: Stack, standalone: StandaloneStageOptions, id = 'Summarize', quota?: ServiceQuota) {
  const stage = InferenceStage.bedrock(stack, id, {
    model: BedrockModel.inferenceProfile(INFERENCE_PROFILE),
    prompt: PromptTemplate.fromText('Summarize:\n{{text}}', { version: '1' }),
    output: summaryContract(),
    standalone,
    quota,
  });
  stateMachineOf(stage, id === 'Summarize' ? 'SM' : `${id}SM`);
  return stage;
}

/** Whether a function carries the library's `LambdaInsideVPC` acknowledgement. */
function acknowledgesOutsideVpc(fn: lambda.Function): boolean {
  return (fn.node.defaultChild as lambda.CfnFunction).node.metadata
    .some((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY && JSON.stringify(m.data).includes('LambdaInsideVPC'));
}

describe('the flagship example with `network` (a VPC of private isolated subnets)', () => {
  let app: App;
  let stack: LegalContractsStack;
  let template: Template;
  beforeAll(() => {
    app = new App({ builtinCloudFormationValidation: false } as any);
    stack = new LegalContractsStack(app, 'Flagship', { env: ENV, privateNetwork: true });
    template = Template.fromStack(stack);
  });

  test('the five packs report zero unacknowledged findings', () => {
    const findings = fivePackFindings(app, stack);
    process.stdout.write(`five cdk-nag packs on examples/legal-contracts with network: ${packSummary(findings)}\n`);
    expect(describeFindings(findings)).toBe('');
    for (const pack of FIVE_PACKS) expect(findings[pack]).toHaveLength(0);
  });

  test('every library function runs in the isolated subnets with the functions\' security group', () => {
    const fns = libraryFunctions(template);
    expect(fns.length).toBeGreaterThanOrEqual(11);
    // chunked steps' functions too (they sit outside the pipeline's construct tree)
    expect(fns.map(([id]) => id)).toEqual(expect.arrayContaining([expect.stringMatching(/^SummaryChunks/), expect.stringMatching(/^ClauseChunks/)]));
    const sg = idOf(template, 'AWS::EC2::SecurityGroup', FUNCTIONS_SG);
    for (const [id, fn] of fns) {
      expect([id, fn.Properties.VpcConfig]).toEqual([id, {
        SubnetIds: [{ Ref: 'VpcPrivateSubnet1Subnet536B997A' }, { Ref: 'VpcPrivateSubnet2Subnet3788AAA1' }],
        SecurityGroupIds: [{ 'Fn::GetAtt': [sg, 'GroupId'] }],
      }]);
    }
  });

  test('the endpoints are those the stages call, and no others', () => {
    // Textract, Comprehend, Translate, SageMaker and Bedrock stages; S3 everywhere; the audit bus;
    // the review's task callback. No DynamoDB (no quota), KMS (used by S3/SNS/SQS on the caller's
    // behalf), SQS (the starter's queue is polled by Lambda), Transcribe or Secrets Manager.
    expect(endpointServices(template)).toEqual(['bedrock-runtime', 'comprehend', 'events', 's3', 'sagemaker.runtime', 'states', 'textract', 'translate']);
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      ServiceName: { 'Fn::Join': ['', ['com.amazonaws.', { Ref: 'AWS::Region' }, '.s3']] },
      VpcEndpointType: 'Gateway',
      RouteTableIds: [{ Ref: 'VpcPrivateSubnet1RouteTable3F3B4D1C' }, { Ref: 'VpcPrivateSubnet2RouteTable5D6C3B9E' }].map(() => Match.anyValue()),
    });
    for (const e of Object.values(template.findResources('AWS::EC2::VPCEndpoint')) as any[]) {
      if (e.Properties.VpcEndpointType === 'Gateway') continue;
      expect([e.Properties.ServiceName, e.Properties.PrivateDnsEnabled, e.Properties.SecurityGroupIds])
        .toEqual([e.Properties.ServiceName, true, [{ 'Fn::GetAtt': [idOf(template, 'AWS::EC2::SecurityGroup', ENDPOINTS_SG), 'GroupId'] }]]);
    }
  });

  test('endpoints that take a policy let only this account\'s principals through', () => {
    const onlyThisAccount = {
      Statement: [{ Action: '*', Effect: 'Allow', Principal: { AWS: '*' }, Resource: '*', Condition: { StringEquals: { 'aws:PrincipalAccount': '111111111111' } } }],
      Version: '2012-10-17',
    };
    for (const service of ['states', 'events', 'bedrock-runtime', 'sagemaker.runtime']) {
      template.hasResourceProperties('AWS::EC2::VPCEndpoint', { ServiceName: `com.amazonaws.us-east-1.${service}`, PolicyDocument: onlyThisAccount });
    }
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Gateway', PolicyDocument: onlyThisAccount });
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', { ServiceName: 'com.amazonaws.us-east-1.textract', PolicyDocument: Match.absent() });
  });

  test('the security groups: HTTPS out to the endpoints and the S3 prefix list only; HTTPS in to the endpoints from the functions only', () => {
    const fnSg = idOf(template, 'AWS::EC2::SecurityGroup', FUNCTIONS_SG);
    const epSg = idOf(template, 'AWS::EC2::SecurityGroup', ENDPOINTS_SG);
    const groups = template.findResources('AWS::EC2::SecurityGroup') as any;
    // No inline rule on the functions' group: nothing else leaves it.
    expect(groups[fnSg].Properties.SecurityGroupEgress).toBeUndefined();
    expect(groups[fnSg].Properties.SecurityGroupIngress).toBeUndefined();
    const egress = (Object.values(template.findResources('AWS::EC2::SecurityGroupEgress')) as any[]).map((r) => r.Properties);
    expect(egress).toEqual(expect.arrayContaining([
      { GroupId: { 'Fn::GetAtt': [fnSg, 'GroupId'] }, IpProtocol: 'tcp', FromPort: 443, ToPort: 443, DestinationSecurityGroupId: { 'Fn::GetAtt': [epSg, 'GroupId'] }, Description: 'HTTPS to the VPC interface endpoints' },
      { GroupId: { 'Fn::GetAtt': [fnSg, 'GroupId'] }, IpProtocol: 'tcp', FromPort: 443, ToPort: 443, DestinationPrefixListId: 'pl-xxxxxxxx', Description: 'HTTPS to S3 through its gateway endpoint' },
    ]));
    expect(egress.filter((e) => JSON.stringify(e.GroupId).includes(fnSg))).toHaveLength(2);
    const ingress = (Object.values(template.findResources('AWS::EC2::SecurityGroupIngress')) as any[]).map((r) => r.Properties);
    expect(ingress).toEqual([
      { GroupId: { 'Fn::GetAtt': [epSg, 'GroupId'] }, IpProtocol: 'tcp', FromPort: 443, ToPort: 443, SourceSecurityGroupId: { 'Fn::GetAtt': [fnSg, 'GroupId'] }, Description: 'HTTPS from the cdk-ai-pipeline functions' },
    ]);
    // The endpoints' group sends nothing (CDK's "disallow all" placeholder rule).
    expect(groups[epSg].Properties.SecurityGroupEgress).toEqual([{ CidrIp: '255.255.255.255/32', Description: 'Disallow all traffic', FromPort: 252, IpProtocol: 'icmp', ToPort: 86 }]);
  });

  test('each library role may manage the function\'s network interfaces (the EC2 part of AWSLambdaVPCAccessExecutionRole, not the managed policy)', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy')) as any[];
    const withEni = policies.filter((p) => JSON.stringify(p).includes('ec2:CreateNetworkInterface'));
    expect(withEni).toHaveLength(libraryFunctions(template).length);
    for (const p of withEni) {
      expect(p.Properties.PolicyDocument.Statement).toEqual(expect.arrayContaining([
        { Action: ['ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets'], Effect: 'Allow', Resource: '*' },
        {
          Action: ['ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
          Effect: 'Allow',
          Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ec2:us-east-1:111111111111:*/*']] },
        },
      ]));
    }
    const roles = Object.values(template.findResources('AWS::IAM::Role')) as any[];
    expect(roles.filter((r) => JSON.stringify(r.Properties.ManagedPolicyArns ?? []).includes('AWSLambdaVPCAccessExecutionRole'))).toEqual([]);
  });

  test('no library function carries the LambdaInsideVPC acknowledgement; without `network` every one does', () => {
    const inVpc = stack.node.findAll().filter((c): c is lambda.Function => c instanceof lambda.Function);
    expect(inVpc.length).toBeGreaterThanOrEqual(11);
    expect(inVpc.filter(acknowledgesOutsideVpc).map((f) => f.node.path)).toEqual([]);

    const plainApp = new App({ builtinCloudFormationValidation: false } as any);
    const plain = new LegalContractsStack(plainApp, 'Flagship', { env: ENV });
    Template.fromStack(plain);
    const outside = plain.node.findAll().filter((c): c is lambda.Function => c instanceof lambda.Function);
    expect(outside.filter((f) => !acknowledgesOutsideVpc(f)).map((f) => f.node.path)).toEqual([]);
    const reason = JSON.stringify((outside[0].node.defaultChild as lambda.CfnFunction).node.metadata);
    expect(reason).toContain('Set `network` on the Pipeline');
  });
});

describe('a stand-alone stage with `standalone.network`', () => {
  test('its function is in the VPC, the endpoints are its own calls\', and the five packs are clean', () => {
    const app = new App({ builtinCloudFormationValidation: false } as any);
    const stack = new Stack(app, 'Standalone', { env: ENV });
    const vpc = userVpc(stack);
    standaloneStage(stack, { network: { vpc } });
    const template = Template.fromStack(stack);
    const fns = libraryFunctions(template);
    expect(fns).toHaveLength(1);
    expect(fns[0][1].Properties.VpcConfig.SubnetIds).toEqual(stack.resolve(vpc.isolatedSubnets.map((sn) => sn.subnetId)));
    expect(fns[0][1].Properties.VpcConfig.SubnetIds).toHaveLength(2);
    expect(endpointServices(template)).toEqual(['bedrock-runtime', 'events', 's3']);
    const findings = fivePackFindings(app, stack);
    // The user's state machine and the test's flow-log group and delivery role are the user's to configure.
    const users = ['Standalone/SM/', 'Standalone/VpcFlowLogs/', 'Standalone/Vpc/FlowLogs/IAMRole/'];
    const isOurs = (f: { path: string }) => !users.some((u) => f.path.startsWith(u));
    const ours = Object.fromEntries(FIVE_PACKS.map((p) => [p, findings[p].filter(isOurs)])) as typeof findings;
    process.stdout.write(`five cdk-nag packs on a stand-alone stage with network: ${packSummary(ours)}\n`);
    expect(describeFindings(ours)).toBe('');
  });

  test('`createEndpoints: false` makes no endpoint and lets HTTPS out to the VPC\'s CIDR block and the S3 prefix list', () => {
    const stack = new Stack(new App({ builtinCloudFormationValidation: false } as any), 'Standalone', { env: ENV });
    standaloneStage(stack, { network: { vpc: userVpc(stack), createEndpoints: false, s3PrefixListId: 'pl-63a5400a' } });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
    const fnSg = idOf(template, 'AWS::EC2::SecurityGroup', FUNCTIONS_SG);
    const inline = (template.findResources('AWS::EC2::SecurityGroup') as any)[fnSg].Properties.SecurityGroupEgress;
    const separate = (Object.values(template.findResources('AWS::EC2::SecurityGroupEgress')) as any[]).map((r) => r.Properties);
    expect([...inline, ...separate]).toEqual([
      { CidrIp: { 'Fn::GetAtt': ['Vpc8378EB38', 'CidrBlock'] }, Description: 'HTTPS to the interface endpoints in the VPC', FromPort: 443, IpProtocol: 'tcp', ToPort: 443 },
      { GroupId: { 'Fn::GetAtt': [fnSg, 'GroupId'] }, DestinationPrefixListId: 'pl-63a5400a', Description: 'HTTPS to S3 through its gateway endpoint', FromPort: 443, IpProtocol: 'tcp', ToPort: 443 },
    ]);
    template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
  });

  test('a stage with a quota (DynamoDB) gets the DynamoDB gateway and HTTPS to its prefix list', () => {
    const stack = new Stack(new App({ builtinCloudFormationValidation: false } as any), 'Standalone', { env: ENV });
    const quota = ServiceQuota.bedrockModel(stack, 'HaikuQuota', { model: BedrockModel.inferenceProfile(INFERENCE_PROFILE), requestsPerMinute: 100, tokensPerMinute: 100_000 });
    standaloneStage(stack, { network: { vpc: userVpc(stack), dynamoDbPrefixListId: 'pl-02cd2c6b' } }, 'Summarize', quota);
    const template = Template.fromStack(stack);
    expect(endpointServices(template)).toEqual(['bedrock-runtime', 'dynamodb', 'events', 's3']);
    template.hasResourceProperties('AWS::EC2::SecurityGroupEgress', {
      DestinationPrefixListId: 'pl-02cd2c6b', FromPort: 443, ToPort: 443, IpProtocol: 'tcp', Description: 'HTTPS to DynamoDB through its gateway endpoint',
    });
  });

  test('a call with no endpoint the library knows gets a warning on the function', () => {
    const stack = new Stack(new App({ builtinCloudFormationValidation: false } as any), 'Standalone', { env: ENV });
    const stage = standaloneStage(stack, { network: { vpc: userVpc(stack) } });
    stage.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['aoss:APIAccessAll'], resources: ['arn:aws:aoss:us-east-1:111111111111:collection/abc'] }));
    Template.fromStack(stack);
    Annotations.fromStack(stack).hasWarning('/Standalone/Summarize/Resource', Match.stringLikeRegexp('may call \'aoss\', for which the library makes no VPC endpoint'));
  });

  test('two stages in one VPC share the security groups and the endpoints', () => {
    const stack = new Stack(new App({ builtinCloudFormationValidation: false } as any), 'Standalone', { env: ENV });
    const vpc = userVpc(stack);
    standaloneStage(stack, { network: { vpc } }, 'First');
    standaloneStage(stack, { network: { vpc } }, 'Second');
    const template = Template.fromStack(stack);
    expect(endpointServices(template)).toEqual(['bedrock-runtime', 'events', 's3']);
    const fnSg = idOf(template, 'AWS::EC2::SecurityGroup', FUNCTIONS_SG);
    const fns = libraryFunctions(template);
    expect(fns).toHaveLength(2);
    for (const [, fn] of fns) expect(fn.Properties.VpcConfig.SecurityGroupIds).toEqual([{ 'Fn::GetAtt': [fnSg, 'GroupId'] }]);
  });

  test('the templates pass CloudFormation\'s own validation (aws-cdk-lib\'s built-in validator on)', () => {
    for (const createEndpoints of [true, false]) {
      const app = new App({ builtinCloudFormationValidation: true } as any);
      const stack = new Stack(app, 'Standalone', { env: ENV });
      standaloneStage(stack, { network: { vpc: userVpc(stack), createEndpoints, s3PrefixListId: 'pl-63a5400a' } });
      const assembly = app.synth();
      const report = JSON.parse(fs.readFileSync(path.join(assembly.directory, 'validation-report.json'), 'utf8'));
      const violations = report.pluginReports.flatMap((r: any) => r.violations.map((v: any) => `${v.ruleName}: ${v.description}`));
      expect([createEndpoints, violations]).toEqual([createEndpoints, []]);
    }
  });

  test('subnets of the user\'s choice', () => {
    const stack = new Stack(new App({ builtinCloudFormationValidation: false } as any), 'Standalone', { env: ENV });
    const vpc = userVpc(stack);
    standaloneStage(stack, { network: { vpc, subnets: { subnets: [vpc.isolatedSubnets[1]] } } });
    const fns = libraryFunctions(Template.fromStack(stack));
    expect(fns[0][1].Properties.VpcConfig.SubnetIds).toEqual([stack.resolve(vpc.isolatedSubnets[1].subnetId)]);
  });

  test('a VPC without isolated subnets fails synth naming the prop and the fix', () => {
    const stack = new Stack(new App({ builtinCloudFormationValidation: false } as any), 'Standalone', { env: ENV });
    const vpc = new ec2.Vpc(stack, 'Public', { maxAzs: 1, natGateways: 0, subnetConfiguration: [{ name: 'Public', subnetType: ec2.SubnetType.PUBLIC }] });
    standaloneStage(stack, { network: { vpc } });
    expect(() => Template.fromStack(stack)).toThrow(/\[BedrockStage Standalone\/Summarize\] `network.subnets` selects no subnets of the VPC: .*Give the VPC private isolated subnets, or pass `network.subnets`./);
  });

  test('a stack without account and Region needs the prefix list id', () => {
    const stack = new Stack(new App({ builtinCloudFormationValidation: false } as any), 'Agnostic');
    standaloneStage(stack, { network: { vpc: userVpc(stack) } });
    expect(() => Template.fromStack(stack)).toThrow('[BedrockStage Agnostic/Summarize] the functions\' security group must reach the S3 gateway\'s prefix list, which is looked up by name only in a stack '
      + 'with an account and a Region. Set `env` on the stack, or pass `network.s3PrefixListId` (the id of \'com.amazonaws.<region>.s3\').');

    const given = new Stack(new App({ builtinCloudFormationValidation: false } as any), 'Agnostic');
    const options: PrivateNetworkOptions = { vpc: userVpc(given), s3PrefixListId: 'pl-63a5400a' };
    standaloneStage(given, { network: options });
    Template.fromStack(given).hasResourceProperties('AWS::EC2::SecurityGroupEgress', { DestinationPrefixListId: 'pl-63a5400a', FromPort: 443, ToPort: 443 });
  });
});

describe('the endpoint a call goes through', () => {
  test.each([
    ['s3:GetObject', 'S3'], ['dynamodb:UpdateItem', 'DynamoDb'], ['bedrock:InvokeModel', 'BedrockRuntime'], ['bedrock:ApplyGuardrail', 'BedrockRuntime'],
    ['bedrock:CreateModelInvocationJob', 'Bedrock'], ['sagemaker:InvokeEndpoint', 'SageMakerRuntime'], ['states:SendTaskSuccess', 'StepFunctions'],
    ['events:PutEvents', 'EventBridge'], ['textract:StartDocumentAnalysis', 'Textract'], ['transcribe:StartTranscriptionJob', 'Transcribe'],
    ['logs:StartQuery', 'Logs'], ['sqs:SendMessage', 'Sqs'], ['lambda:InvokeFunction', 'Lambda'], ['secretsmanager:GetSecretValue', 'SecretsManager'],
  ])('%s -> %s', (action, endpoint) => expect(endpointOf(action)).toBe(endpoint));

  test.each(['xray:PutTraceSegments', 'logs:PutLogEvents', 'ec2:CreateNetworkInterface', 'iam:PassRole', 'kms:Decrypt'])('%s does not leave through the VPC', (action) => {
    expect(endpointOf(action)).toBeNull();
  });

  test('an action with no endpoint known is left undefined (the function gets a warning)', () => {
    expect(endpointOf('aoss:APIAccessAll')).toBeUndefined();
  });
});

describe('deployment settings on a stand-alone stage', () => {
  test('permissionsBoundary, roleNamePrefix and functionConcurrency reach its role and function', () => {
    const stack = new Stack(new App({ builtinCloudFormationValidation: false } as any), 'Standalone', { env: ENV });
    standaloneStage(stack, {
      permissionsBoundary: iam.ManagedPolicy.fromManagedPolicyName(stack, 'Boundary', 'app-boundary'),
      roleNamePrefix: 'app-',
      functionConcurrency: 3,
    });
    const template = Template.fromStack(stack);
    const roles = (Object.entries(template.findResources('AWS::IAM::Role')) as Array<[string, any]>)
      .filter(([, r]) => JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes('lambda.amazonaws.com'));
    expect(roles.length).toBeGreaterThanOrEqual(1);
    for (const [id, role] of roles) {
      expect([id, role.Properties.PermissionsBoundary]).toEqual([id, { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::111111111111:policy/app-boundary']] }]);
      expect([id, role.Properties.RoleName]).toEqual([id, expect.stringMatching(/^app-.{1,60}$/)]);
    }
    const fns = libraryFunctions(template);
    expect(fns.map(([, f]) => f.Properties.ReservedConcurrentExecutions)).toEqual([3]);
  });

  test('the Pipeline\'s settings reach a chunked step\'s function (outside the pipeline\'s construct tree)', () => {
    const stack = new Stack(new App({ builtinCloudFormationValidation: false } as any), 'Chunked', { env: ENV });
    const summarize = InferenceStage.bedrock(stack, 'Summarize', {
      model: BedrockModel.inferenceProfile(INFERENCE_PROFILE),
      prompt: PromptTemplate.fromText('Summarize:\n{{text}}', { version: '1' }),
      output: StageContract.fromObject(SUMMARY_OUTPUT),
    });
    const step = new ChunkedStage(stack, 'SummaryChunks', {
      stage: summarize,
      chunkBy: ChunkBy.pages(5),
      reducers: [ChunkReducer.concatenate('summary'), ChunkReducer.max('riskScore'), ChunkReducer.union('riskClauses')],
    });
    // The chunked step is a branch of a parallel step: not one of the pipeline's `stages`.
    const analyse = new ParallelStages(stack, 'Analyse', { branches: [ParallelBranch.chunked(step), ParallelBranch.required([classifyStage(stack)])] });
    new Pipeline(stack, 'Contracts', { trigger: uploadTrigger(stack), stages: [extractStage(stack), analyse], functionConcurrency: 4, roleNamePrefix: 'app-' });
    const template = Template.fromStack(stack);
    const chunkFn = (template.findResources('AWS::Lambda::Function') as any)[stack.getLogicalId(step.handler.node.defaultChild as lambda.CfnFunction)];
    expect(chunkFn.Properties.ReservedConcurrentExecutions).toBe(4);
    const roleId = chunkFn.Properties.Role['Fn::GetAtt'][0];
    expect((template.findResources('AWS::IAM::Role') as any)[roleId].Properties.RoleName).toMatch(/^app-/);
  });

  test('without them the stage sets none', () => {
    const stack = new Stack(new App({ builtinCloudFormationValidation: false } as any), 'Standalone', { env: ENV });
    standaloneStage(stack, { pipelineName: 'mine' });
    const template = Template.fromStack(stack);
    expect(libraryFunctions(template).map(([, f]) => f.Properties.ReservedConcurrentExecutions)).toEqual([undefined]);
    expect((Object.values(template.findResources('AWS::IAM::Role')) as any[]).filter((r) => r.Properties.PermissionsBoundary || r.Properties.RoleName)).toEqual([]);
  });

  test('bad values fail synth naming the stage and the prop', () => {
    const stack = new Stack(new App(), 'Standalone', { env: ENV });
    expect(() => standaloneStage(stack, { functionConcurrency: 0 }))
      .toThrow('[BedrockStage Standalone/Summarize] `standalone.functionConcurrency` must be a whole number of at least 1, got: 0. Leave it unset for no reserved concurrency.');
    const other = new Stack(new App(), 'Standalone', { env: ENV });
    expect(() => standaloneStage(other, { roleNamePrefix: 'has space' }))
      .toThrow('[BedrockStage Standalone/Summarize] `standalone.roleNamePrefix` must be 1-32 characters of letters, digits and + = , . @ _ -, got: \'has space\'. Use e.g. \'app-\'.');
  });
});
