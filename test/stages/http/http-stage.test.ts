/** The HTTP stage kind: the HTTP task, its EventBridge connection, grants, contracts, validation, cdk-nag. */
import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DocumentTrigger, HttpStageProps, InferenceStage, Pipeline, RouteDestination, RoutingPolicy, RoutingRule, RuleCondition, StageContract, StageKind } from '../../../src';
import { renderAsl } from '../../helpers/construct-test-kit';

const OUTPUT = () => StageContract.fromObject({
  type: 'object',
  required: ['listed'],
  properties: { listed: { type: 'boolean' }, country: { type: 'string', maxLength: 2 } },
});

function build(props: Partial<HttpStageProps> = {}, options: { parseOutput?: object } = {}) {
  const app = new App({ builtinCloudFormationValidation: false });
  const stack = new Stack(app, 'Http', { env: { account: '111111111111', region: 'us-east-1' } });
  const secret = new secretsmanager.Secret(stack, 'ApiKey');
  const parse = InferenceStage.sagemakerEndpoint(stack, 'Parse', {
    endpointName: 'parser',
    request: { key: 'document.key' },
    output: StageContract.fromObject(options.parseOutput ?? { type: 'object', required: ['bin'], properties: { bin: { type: 'string' } } }),
  });
  const lookup = InferenceStage.http(stack, 'Lookup', {
    apiRoot: 'https://api.example.com/v1',
    path: 'bins',
    apiKeySecret: secret,
    apiKeySecretField: 'key',
    queryParameters: { bin: '$.results.Parse.bin', source: 'pipeline' },
    output: OUTPUT(),
    ...props,
  });
  const pipeline = new Pipeline(stack, 'Screen', {
    trigger: DocumentTrigger.s3Upload(stack, 'Upload', { prefix: 'in/', suffixes: ['.json'] }),
    stages: [parse, lookup],
    routing: new RoutingPolicy(stack, 'Route', {
      rules: [RoutingRule.when('clear', RuleCondition.booleanEquals('Lookup.listed', false), RouteDestination.autoApprove())],
      defaultRoute: RouteDestination.sqsQueue('review', new sqs.Queue(stack, 'Review', { enforceSSL: true })),
    }),
  });
  return { app, stack, secret, lookup, pipeline };
}

describe('HttpStage', () => {
  test('two states: the HTTP task (request by JSONPath, 429/5xx retried, timeout) then the check of the answer', () => {
    const { lookup, pipeline } = build({ timeout: Duration.seconds(20) });
    expect(lookup.kind).toBe(StageKind.HTTP);
    const asl = renderAsl(pipeline.stateMachine);
    const call = asl.States['Lookup-Call'];
    expect(call).toMatchObject({
      Type: 'Task',
      Resource: expect.stringMatching(/^arn:.*:states:::http:invoke$/),
      Parameters: {
        Method: 'GET',
        QueryParameters: { 'bin.$': '$.results.Parse.bin', 'source': 'pipeline' },
      },
      ResultSelector: { 'statusCode.$': '$.StatusCode', 'body.$': '$.ResponseBody' },
      ResultPath: '$.results.Lookup',
      TimeoutSeconds: 20,
      Next: 'Lookup',
    });
    // A literal URL, or States.Format over root and path (aws-cdk-lib's dynamic-endpoint feature flag).
    const endpoint = call.Parameters.ApiEndpoint ?? call.Parameters['ApiEndpoint.$'];
    expect(['https://api.example.com/v1/bins', "States.Format('{}/{}', 'https://api.example.com/v1', 'bins')"]).toContain(endpoint);
    expect(call.Retry).toEqual([expect.objectContaining({
      ErrorEquals: ['States.Http.StatusCode.429', 'States.Http.StatusCode.500', 'States.Http.StatusCode.502', 'States.Http.StatusCode.503', 'States.Http.StatusCode.504', 'States.Http.Socket'],
      MaxAttempts: 4,
      JitterStrategy: 'FULL',
    })]);
    // The call's failures take the failure path like the stage's own.
    expect(call.Catch).toEqual([expect.objectContaining({ ErrorEquals: ['States.ALL'] })]);
    expect(asl.States.Parse.Next).toBe('Lookup-Call');
    expect(JSON.stringify(asl.States.Lookup.Resource)).toContain('LookupCBC0CEEC');
  });

  test('the connection reads the API key from Secrets Manager by dynamic reference: no secret in the template', () => {
    const { stack } = build();
    const template = Template.fromStack(stack);
    const connection = Object.values(template.findResources('AWS::Events::Connection'))[0] as any;
    expect(connection.Properties.AuthorizationType).toBe('API_KEY');
    const auth = connection.Properties.AuthParameters.ApiKeyAuthParameters;
    expect(auth.ApiKeyName).toBe('x-api-key');
    const value = JSON.stringify(stack.resolve(auth.ApiKeyValue));
    expect(value).toContain('{{resolve:secretsmanager:');
    expect(value).toContain(':SecretString:key::}}');
  });

  test('the state machine may retrieve only this connection\'s credentials and call only under apiRoot', () => {
    const { stack, pipeline } = build();
    const policy = Template.fromStack(stack).toJSON().Resources[stack.getLogicalId(pipeline.stateMachine.role.node.findChild('DefaultPolicy').node.defaultChild as any)];
    const statements: any[] = policy.Properties.PolicyDocument.Statement;
    const find = (action: string) => statements.filter((s) => [s.Action].flat().includes(action));
    expect(find('events:RetrieveConnectionCredentials')).toEqual([expect.objectContaining({ Resource: { 'Fn::GetAtt': [expect.stringMatching(/^LookupConnection/), 'Arn'] } })]);
    expect(find('secretsmanager:GetSecretValue')).toEqual([expect.objectContaining({ Resource: { 'Fn::GetAtt': [expect.stringMatching(/^LookupConnection/), 'SecretArn'] } })]);
    expect(find('states:InvokeHTTPEndpoint')).toEqual([expect.objectContaining({
      Resource: '*',
      Condition: { StringLike: { 'states:HTTPEndpoint': 'https://api.example.com/v1*' } },
    })]);
  });

  test('a connection of your own is used as it is (no new connection)', () => {
    const app = new App({ builtinCloudFormationValidation: false });
    const stack = new Stack(app, 'Own');
    const connection = events.Connection.fromConnectionAttributes(stack, 'Conn', {
      connectionName: 'sanctions',
      connectionArn: 'arn:aws:events:us-east-1:111111111111:connection/sanctions/abc',
      connectionSecretArn: 'arn:aws:secretsmanager:us-east-1:111111111111:secret:events!connection/sanctions/abc-XyZ',
    });
    const stage = InferenceStage.http(stack, 'Sanctions', { apiRoot: 'https://sanctions.example.org', connection, method: 'POST', body: { name: '$.document.key' }, output: OUTPUT() });
    expect(stage.connection).toBe(connection);
    Template.fromStack(stack).resourceCountIs('AWS::Events::Connection', 0);
    // The request reads document.key: the derived input contract requires it.
    expect(stage.inputContract.schema).toMatchObject({ properties: { document: { required: expect.arrayContaining(['key']) } } });
  });

  test('the input contract requires what the request reads, so the Pipeline checks it at synth', () => {
    const { lookup } = build();
    expect(lookup.inputContract.schema).toMatchObject({
      required: expect.arrayContaining(['document', 'results']),
      properties: { results: { required: ['Parse'], properties: { Parse: { required: ['bin'] } } } },
    });
    expect(() => build({}, { parseOutput: { type: 'object', required: ['iin'], properties: { iin: { type: 'string' } } } })).toThrow(/Lookup/);
  });

  const secretless = { apiKeySecret: undefined } as Partial<HttpStageProps>;
  test.each<[string, Partial<HttpStageProps>, string]>([
    ['http root', { apiRoot: 'http://api.example.com' }, "`apiRoot` must be an https:// URL without a trailing '/', query or fragment, got: 'http://api.example.com'"],
    ['trailing slash', { apiRoot: 'https://api.example.com/' }, '`apiRoot` must be an https:// URL'],
    ['absolute path', { path: '/bins' }, "`path` must be relative to apiRoot (no leading '/', no query or fragment), got: '/bins'"],
    ['method', { method: 'FETCH' }, "`method` must be one of GET, POST, PUT, PATCH, DELETE, got: 'FETCH'"],
    ['no credentials', secretless, '`connection` and `apiKeySecret`: give exactly one'],
    ['bad JSONPath', { queryParameters: { bin: '$.results.Parse[0]' } }, "`queryParameters.bin` must be a JSONPath '$.results.<Stage>.<field>' or '$.document.<field>' (dots only), got: '$.results.Parse[0]'"],
    ['body with GET', { body: { bin: '$.results.Parse.bin' } }, '`body` is sent only with POST, PUT, PATCH or DELETE; the method is GET'],
    ['credential header', { headers: { Authorization: 'Bearer abc' } }, "`headers` sets 'Authorization': credentials never go in the template"],
    ['timeout', { timeout: Duration.seconds(90) }, '`timeout` must be at most 60 seconds for an HTTP stage (the HTTP task\'s own limit), got: 1 minute 30 seconds'],
  ])('invalid %s fails with a message naming the construct and the prop', (_what, props, message) => {
    expect(() => build(props)).toThrow(message);
    expect(() => build(props)).toThrow(/HttpStage at Http\/Lookup|Http\/Lookup/);
  });

  test('cdk-nag AwsSolutions: no unacknowledged finding', () => {
    const { app, stack, secret } = build();
    // The test's own fixtures, not the stage's: the API key is rotated by its provider, the review queue is a stand-in.
    Validations.of(secret.node.defaultChild!).acknowledge({ id: 'AwsSolutions-SMG4', reason: 'test fixture: an API key issued and rotated by the external provider' });
    Validations.of(stack.node.findChild('Review').node.defaultChild!).acknowledge({ id: 'AwsSolutions-SQS3', reason: 'test fixture: the review queue' });
    Template.fromStack(stack);
    const violations = new AwsSolutionsChecks(app).validateScope(stack).violations
      .flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`));
    expect(violations).toEqual([]);
  });
});
