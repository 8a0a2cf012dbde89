import { Annotations, AspectPriority, Aspects, IAspect, Names, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct, IConstruct } from 'constructs';
import { acknowledgeWildcards } from './acknowledge';
import { invalid } from './validation';
import { PrivateNetworkOptions } from '../network/private-network';

/** An endpoint the library can make: its service, whether it is a gateway, whether it takes a policy. */
interface EndpointKind {
  readonly service: ec2.IInterfaceVpcEndpointService | ec2.IGatewayVpcEndpointService;
  readonly gateway?: boolean;
  /** The service accepts an endpoint policy (only these get the this-account-only policy). */
  readonly policy: boolean;
}

const I = ec2.InterfaceVpcEndpointAwsService;
/** Every endpoint the library knows, by construct id. */
export const ENDPOINTS: { [id: string]: EndpointKind } = {
  S3: { service: ec2.GatewayVpcEndpointAwsService.S3, gateway: true, policy: true },
  DynamoDb: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB, gateway: true, policy: true },
  Kms: { service: I.KMS, policy: true },
  Sts: { service: I.STS, policy: true },
  StepFunctions: { service: I.STEP_FUNCTIONS, policy: true },
  EventBridge: { service: I.EVENTBRIDGE, policy: true },
  Sns: { service: I.SNS, policy: true },
  Sqs: { service: I.SQS, policy: true },
  Lambda: { service: I.LAMBDA, policy: true },
  SecretsManager: { service: I.SECRETS_MANAGER, policy: true },
  Ssm: { service: I.SSM, policy: true },
  Logs: { service: I.CLOUDWATCH_LOGS, policy: true },
  BedrockRuntime: { service: I.BEDROCK_RUNTIME, policy: true },
  Bedrock: { service: I.BEDROCK, policy: false },
  SageMakerRuntime: { service: I.SAGEMAKER_RUNTIME, policy: true },
  SageMakerApi: { service: I.SAGEMAKER_API, policy: false },
  Textract: { service: I.TEXTRACT, policy: false },
  Comprehend: { service: I.COMPREHEND, policy: false },
  Translate: { service: I.TRANSLATE, policy: false },
  Transcribe: { service: I.TRANSCRIBE, policy: false },
  Monitoring: { service: I.CLOUDWATCH_MONITORING, policy: false },
  ApiGateway: { service: I.APIGATEWAY, policy: false },
};

const BY_PREFIX: { [prefix: string]: string } = {
  's3': 'S3',
  'dynamodb': 'DynamoDb',
  'kms': 'Kms',
  'sts': 'Sts',
  'states': 'StepFunctions',
  'events': 'EventBridge',
  'sns': 'Sns',
  'sqs': 'Sqs',
  'lambda': 'Lambda',
  'secretsmanager': 'SecretsManager',
  'ssm': 'Ssm',
  'textract': 'Textract',
  'comprehend': 'Comprehend',
  'translate': 'Translate',
  'transcribe': 'Transcribe',
  'cloudwatch': 'Monitoring',
  'execute-api': 'ApiGateway',
};

/**
 * Actions that never leave the function through the VPC: X-Ray segments go to the daemon Lambda runs
 * beside the function, the function's own log lines are delivered by Lambda, ENIs are managed by
 * Lambda, `iam:PassRole` is an authorization, not a call, and the KMS permissions of the library's
 * roles are used by S3, SQS and SNS on the function's behalf (SSE-KMS): no library handler calls KMS.
 */
const NOT_FROM_VPC = /^(xray:.*|ec2:.*|iam:.*|kms:.*|logs:(CreateLogGroup|CreateLogStream|PutLogEvents))$/;

/** What an SQS event source mapping needs of the function's role: Lambda polls the queue itself, outside the VPC. */
const SQS_POLLING = new Set(['sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueUrl', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes']);

/** True when an event source mapping in the function's stack invokes it. */
function hasEventSource(fn: lambda.Function): boolean {
  const stack = Stack.of(fn);
  const ref = JSON.stringify(stack.resolve(fn.functionName));
  return stack.node.findAll().some((c) => c instanceof lambda.CfnEventSourceMapping && JSON.stringify(stack.resolve(c.functionName)) === ref);
}

/**
 * The endpoint an IAM action is called through: an id of `ENDPOINTS`, `null` when the call does not
 * go through the function's network, `undefined` when the library knows no endpoint for it.
 */
export function endpointOf(action: string): string | null | undefined {
  if (NOT_FROM_VPC.test(action)) return null;
  const [prefix, name = ''] = action.split(':');
  if (prefix === 'bedrock') return /^(Invoke|Converse|ApplyGuardrail)/.test(name) ? 'BedrockRuntime' : 'Bedrock';
  if (prefix === 'sagemaker') return /^InvokeEndpoint/.test(name) ? 'SageMakerRuntime' : 'SageMakerApi';
  if (prefix === 'logs') return 'Logs';
  return BY_PREFIX[prefix];
}

const list = (v: any): any[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);

/** The actions a role may take, from every policy in its stack attached to it (default policy included). */
function actionsOfRole(role: iam.IRole): string[] {
  const stack = Stack.of(role);
  const cfnRole = role.node.defaultChild;
  if (!(cfnRole instanceof iam.CfnRole)) return [];
  const ref = stack.resolve((cfnRole as iam.CfnRole).ref);
  const docs: any[] = list(stack.resolve(cfnRole.policies)).map((p: any) => p.policyDocument);
  for (const c of stack.node.findAll()) {
    if (!(c instanceof iam.CfnPolicy)) continue;
    const roles = list(stack.resolve(c.roles));
    if (roles.some((r) => JSON.stringify(r) === JSON.stringify(ref))) docs.push(stack.resolve(c.policyDocument));
  }
  return docs.flatMap((d) => list(d?.Statement)).filter((s) => s.Effect === 'Allow').flatMap((s) => list(s.Action) as string[]);
}

/** What the network of a stack's VPC holds: the functions' security group, the endpoints and their group. */
class NetworkResources extends Construct {
  public static of(scope: IConstruct, options: PrivateNetworkOptions): NetworkResources {
    const stack = Stack.of(scope);
    const id = `CdkAiPipelineNetwork${Names.nodeUniqueId(options.vpc.node)}`;
    return (stack.node.tryFindChild(id) as NetworkResources | undefined) ?? new NetworkResources(stack, id, options);
  }

  public readonly functions: ec2.SecurityGroup;
  public readonly endpoints?: ec2.SecurityGroup;
  private readonly options: PrivateNetworkOptions;
  private readonly made = new Map<string, IConstruct>();

  private constructor(scope: Construct, id: string, options: PrivateNetworkOptions) {
    super(scope, id);
    this.options = options;
    const { vpc } = options;
    this.functions = new ec2.SecurityGroup(this, 'Functions', {
      vpc,
      allowAllOutbound: false,
      description: 'cdk-ai-pipeline functions: HTTPS out to the VPC endpoints only',
    });
    if (options.createEndpoints ?? true) {
      this.endpoints = new ec2.SecurityGroup(this, 'Endpoints', {
        vpc,
        allowAllOutbound: false,
        description: 'cdk-ai-pipeline VPC endpoints: HTTPS in from the library functions only',
      });
      this.endpoints.addIngressRule(this.functions, ec2.Port.tcp(443), 'HTTPS from the cdk-ai-pipeline functions');
      this.functions.addEgressRule(this.endpoints, ec2.Port.tcp(443), 'HTTPS to the VPC interface endpoints');
    } else {
      this.functions.addEgressRule(ec2.Peer.ipv4(vpc.vpcCidrBlock), ec2.Port.tcp(443), 'HTTPS to the interface endpoints in the VPC');
    }
  }

  /** The endpoint `id` of `ENDPOINTS`, made on first use (with its egress rule, for a gateway). */
  public ensure(id: string, subnets: ec2.SubnetSelection, owner: IConstruct): void {
    if (this.made.has(id)) return;
    const kind = ENDPOINTS[id];
    const create = this.options.createEndpoints ?? true;
    if (kind.gateway) {
      const endpoint = create
        ? new ec2.GatewayVpcEndpoint(this, id, { vpc: this.options.vpc, service: kind.service as ec2.IGatewayVpcEndpointService, subnets: [subnets] })
        : undefined;
      if (endpoint) this.restrictToAccount(endpoint);
      const given = id === 'S3' ? this.options.s3PrefixListId : this.options.dynamoDbPrefixListId;
      const region = Stack.of(this).region;
      const name = `com.amazonaws.${Token.isUnresolved(region) ? '<region>' : region}.${id === 'S3' ? 's3' : 'dynamodb'}`;
      if (given === undefined && (Token.isUnresolved(region) || Token.isUnresolved(Stack.of(this).account))) {
        invalid(owner, `the functions' security group must reach the ${id === 'S3' ? 'S3' : 'DynamoDB'} gateway's prefix list, which is looked up by name only in a stack with an account and a Region. `
          + `Set \`env\` on the stack, or pass \`network.${id === 'S3' ? 's3PrefixListId' : 'dynamoDbPrefixListId'}\` (the id of '${name}').`);
      }
      const prefixList = given !== undefined
        ? ec2.PrefixList.fromPrefixListId(this, `${id}PrefixList`, given)
        : ec2.PrefixList.fromLookup(this, `${id}PrefixList`, { prefixListName: name });
      this.functions.addEgressRule(ec2.Peer.prefixList(prefixList.prefixListId), ec2.Port.tcp(443), `HTTPS to ${id === 'S3' ? 'S3' : 'DynamoDB'} through its gateway endpoint`);
      this.made.set(id, endpoint ?? prefixList);
    } else if (create) {
      const endpoint = new ec2.InterfaceVpcEndpoint(this, id, {
        vpc: this.options.vpc,
        service: kind.service as ec2.IInterfaceVpcEndpointService,
        subnets,
        securityGroups: [this.endpoints!],
        privateDnsEnabled: true,
        open: false,
      });
      if (kind.policy) this.restrictToAccount(endpoint);
      this.made.set(id, endpoint);
    }
  }

  /** An endpoint policy that lets only this account's principals through. */
  private restrictToAccount(endpoint: ec2.GatewayVpcEndpoint | ec2.InterfaceVpcEndpoint): void {
    endpoint.addToPolicy(new iam.PolicyStatement({
      principals: [new iam.AnyPrincipal()],
      actions: ['*'],
      resources: ['*'],
      conditions: { StringEquals: { 'aws:PrincipalAccount': Stack.of(this).account } },
    }));
  }
}

/** What a function in a VPC needs to manage its network interfaces (AWSLambdaVPCAccessExecutionRole's EC2 part). */
function networkInterfaceStatements(stack: Stack): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      actions: ['ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets'],
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      actions: ['ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
      resources: [`arn:${stack.partition}:ec2:${stack.region}:${stack.account}:*/*`],
    }),
  ];
}

/**
 * Places every function under the scopes in the network: subnets and the functions' security group,
 * the ENI permissions on its role, and the endpoints its role's actions call. Runs after the mutating
 * aspects of the scope's node (a stand-alone stage's attachment grants then), before the policy checks.
 */
class PlaceInNetwork implements IAspect {
  private readonly scopes: Set<IConstruct>;
  constructor(private readonly owner: IConstruct, scopes: IConstruct[], private readonly options: PrivateNetworkOptions) {
    this.scopes = new Set(scopes);
  }

  /**
   * Acts on each scope's node, which is visited before anything under it: the ENI statements are in
   * the roles' policies before the wildcard acknowledgements read them.
   */
  public visit(node: IConstruct): void {
    if (!this.scopes.has(node)) return;
    for (const c of node.node.findAll()) if (c instanceof lambda.Function) this.place(c);
  }

  private place(node: lambda.Function): void {
    const cfn = node.node.defaultChild as lambda.CfnFunction;
    if (cfn.vpcConfig !== undefined) return;
    const net = NetworkResources.of(this.owner, this.options);
    const subnets = this.options.subnets ?? { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
    let subnetIds: string[];
    try {
      subnetIds = this.options.vpc.selectSubnets(subnets).subnetIds;
    } catch (e) {
      invalid(this.owner, `\`network.subnets\` selects no subnets of the VPC: ${(e as Error).message} Give the VPC private isolated subnets, or pass \`network.subnets\`.`);
    }
    if (subnetIds.length === 0) {
      invalid(this.owner, '`network.subnets` selects no subnets of the VPC. Give the VPC private isolated subnets, or pass `network.subnets`.');
    }
    cfn.vpcConfig = { subnetIds, securityGroupIds: [net.functions.securityGroupId] };
    const role = node.role;
    if (!role) return;
    const unknown = new Set<string>();
    const polled = hasEventSource(node);
    for (const action of actionsOfRole(role).filter((a) => !(polled && SQS_POLLING.has(a)))) {
      const id = endpointOf(action);
      if (id === undefined) unknown.add(action.split(':')[0]);
      else if (id !== null) net.ensure(id, subnets, this.owner);
    }
    for (const statement of networkInterfaceStatements(Stack.of(node))) role.addToPrincipalPolicy(statement);
    if (unknown.size > 0) {
      Annotations.of(node).addWarningV2('cdk-ai-pipeline:noEndpointKnown',
        `The function may call ${[...unknown].sort().map((p) => `'${p}'`).join(', ')}, for which the library makes no VPC endpoint: in subnets without an internet route those calls fail unless your VPC reaches the service.`);
    }
  }
}

/** Why a function in a VPC has wildcard EC2 permissions. */
const ENI_REASON = 'Lambda manages the network interfaces of a function in a VPC with the function\'s role: ec2:CreateNetworkInterface, DescribeNetworkInterfaces and DescribeSubnets work only on all resources; Delete/Assign/Unassign are limited to this account and Region.';

/** Places every function under the scopes in the private network (once per scope). */
export function applyNetwork(owner: IConstruct, scopes: IConstruct[], options: PrivateNetworkOptions): void {
  const aspect = new PlaceInNetwork(owner, scopes, options);
  for (const scope of new Set(scopes)) {
    if (scope === Stack.of(scope)) continue;
    Aspects.of(scope).add(aspect, { priority: NETWORK_PRIORITY });
    acknowledgeWildcards(scope, [{
      matches: (f, actions) => (f === 'Resource::*' || /:ec2:[^:]*:[^:]*:\*\/\*$/.test(f))
        && actions.some((a) => a.startsWith('ec2:')) && actions.every((a) => a.startsWith('ec2:') || a.startsWith('xray:')),
      reason: ENI_REASON,
    }]);
  }
}

/** After the mutating aspects (200), before the default ones (500) that acknowledge findings. */
export const NETWORK_PRIORITY = AspectPriority.MUTATING + 100;
