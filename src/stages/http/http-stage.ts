import { Duration, SecretValue, Stack, Token } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { cloneSchema, DOCUMENT_INPUT_SCHEMA } from '../../contracts/schemas';
import { StageContract } from '../../contracts/stage-contract';
import { acknowledgeWildcards } from '../../private/acknowledge';
import { Bundles, stageCode } from '../../private/handler-asset';
import { taskRetry } from '../../private/handler-function';
import { invalid, whereOf } from '../../private/validation';
import { httpCallState, HttpStageConfig, TRANSIENT_ERRORS } from '../../shared';
import { InferenceStageBase, InferenceStageOptions, StageKind } from '../inference-stage-base';

/** Props of an HTTP stage. */
export interface HttpStageProps extends InferenceStageOptions {
  /**
   * Root of the API, `https://` and a host, without a trailing '/'. The state machine may call only
   * URLs under it (the `states:HTTPEndpoint` condition of its role).
   */
  readonly apiRoot: string;
  /**
   * Path of the resource under `apiRoot`, without a leading '/'.
   * @default '' (the root itself)
   */
  readonly path?: string;
  /**
   * HTTP method: GET, POST, PUT, PATCH or DELETE.
   * @default 'GET'
   */
  readonly method?: string;
  /** What the API answers: its JSON response body is checked against it and lands at `$.results.<id>`. */
  readonly output: StageContract;
  /**
   * The EventBridge connection that authorizes the call (its credentials live in the connection's
   * Secrets Manager secret). Give exactly one of `connection` and `apiKeySecret`.
   * @default - a connection made from `apiKeySecret`
   */
  readonly connection?: events.IConnection;
  /**
   * A Secrets Manager secret holding the API key: the stage makes an EventBridge connection that sends
   * it in `apiKeyHeader`. The template holds only a dynamic reference to the secret, never its value.
   * @default - none: give `connection`
   */
  readonly apiKeySecret?: secretsmanager.ISecret;
  /**
   * Header the API key is sent in.
   * @default 'x-api-key'
   */
  readonly apiKeyHeader?: string;
  /**
   * JSON field of `apiKeySecret` that holds the key.
   * @default - the whole secret string is the key
   */
  readonly apiKeySecretField?: string;
  /**
   * Query parameters. A value that starts with `$.` is a JSONPath into the run's state, read when the
   * call is made (`$.results.Parse.cardBin`, `$.document.key`); other values are sent as they are.
   * @default - no query parameters
   */
  readonly queryParameters?: { [name: string]: string };
  /**
   * A JSON request body, its fields given like `queryParameters` (literal or `$.` JSONPath).
   * @default - no body
   */
  readonly body?: { [name: string]: string };
  /**
   * Literal request headers (the credentials come from the connection: an `Authorization` or API-key
   * header here is refused).
   * @default - none
   */
  readonly headers?: { [name: string]: string };
}

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
const JSON_PATH = /^\$\.(document|results)(\.[A-Za-z0-9_]+)+$/;
const HEADER = /^[A-Za-z0-9-]{1,64}$/;
/** The HTTP task gives up after 60 seconds whatever its timeout. */
const HTTP_TASK_LIMIT_SECONDS = 60;

/**
 * An external HTTP API called by the Step Functions HTTP task (`arn:aws:states:::http:invoke`): no
 * Lambda waits on the network. The request is built from the run's state by JSONPath; the credentials
 * live in the EventBridge connection's Secrets Manager secret, never in the template. The stage is two
 * states: `<id>-Call` (the HTTP task, retrying 429, 5xx and socket timeouts) and `<id>`, whose handler
 * checks the response body against the output contract, writes the stage's audit record and puts the
 * body at `$.results.<id>`.
 */
export class HttpStage extends InferenceStageBase {
  /** The HTTP task that calls the API. */
  public readonly callTask: tasks.HttpInvoke;
  /** The EventBridge connection the call is authorized by. */
  public readonly connection: events.IConnection;

  constructor(scope: Construct, id: string, props: HttpStageProps) {
    const where = whereOf('HttpStage', scope, id);
    if (props.quota) {
      invalid(where, '`quota` is not supported on HTTP stages: ServiceQuota covers AWS services. Remove `quota` (429 answers are retried as `retry` says).');
    }
    if (!Token.isUnresolved(props.apiRoot) && !/^https:\/\/[A-Za-z0-9.-]+(:\d+)?(\/[^\s?#]*[^\s?#/])?$/.test(props.apiRoot)) {
      invalid(where, `\`apiRoot\` must be an https:// URL without a trailing '/', query or fragment, got: '${props.apiRoot}'. For example 'https://api.example.com/v1'.`);
    }
    const resourcePath = props.path ?? '';
    if (!Token.isUnresolved(resourcePath) && (resourcePath.startsWith('/') || /[\s?#]/.test(resourcePath))) {
      invalid(where, `\`path\` must be relative to apiRoot (no leading '/', no query or fragment), got: '${resourcePath}'. Put query parameters in \`queryParameters\`.`);
    }
    const method = props.method ?? 'GET';
    if (!METHODS.includes(method)) {
      invalid(where, `\`method\` must be one of ${METHODS.join(', ')}, got: '${method}'.`);
    }
    if ((props.connection === undefined) === (props.apiKeySecret === undefined)) {
      invalid(where, '`connection` and `apiKeySecret`: give exactly one. Pass an EventBridge connection of your own, or the Secrets Manager secret holding the API key.');
    }
    if (props.connection && (props.apiKeyHeader !== undefined || props.apiKeySecretField !== undefined)) {
      invalid(where, '`apiKeyHeader` and `apiKeySecretField` apply only with `apiKeySecret`; the connection you pass carries its own authorization. Remove them.');
    }
    const apiKeyHeader = props.apiKeyHeader ?? 'x-api-key';
    if (!Token.isUnresolved(apiKeyHeader) && !HEADER.test(apiKeyHeader)) {
      invalid(where, `\`apiKeyHeader\` must be a header name (letters, digits, '-'), got: '${apiKeyHeader}'.`);
    }
    if (props.body && method === 'GET') {
      invalid(where, '`body` is sent only with POST, PUT, PATCH or DELETE; the method is GET. Set `method` or move the fields to `queryParameters`.');
    }
    for (const name of Object.keys(props.headers ?? {})) {
      if (!HEADER.test(name)) invalid(where, `\`headers\` holds '${name}', which is not a header name (letters, digits, '-').`);
      if (name.toLowerCase() === 'authorization' || name.toLowerCase() === apiKeyHeader.toLowerCase()) {
        invalid(where, `\`headers\` sets '${name}': credentials never go in the template. Put them in the connection's secret (\`connection\` or \`apiKeySecret\`).`);
      }
    }
    const paths: string[] = [];
    const fields = (what: string, given: { [name: string]: string } | undefined) => {
      if (!given) return undefined;
      const out: { [key: string]: string } = {};
      for (const [name, value] of Object.entries(given)) {
        if (!/^[A-Za-z0-9_.-]{1,128}$/.test(name)) invalid(where, `\`${what}\` holds the name '${name}'; use letters, digits, '_', '-' or '.'.`);
        if (!Token.isUnresolved(value) && value.startsWith('$')) {
          if (!JSON_PATH.test(value)) {
            invalid(where, `\`${what}.${name}\` must be a JSONPath '$.results.<Stage>.<field>' or '$.document.<field>' (dots only), got: '${value}'. Values that do not start with '$' are sent as they are.`);
          }
          paths.push(value.slice(2));
          out[`${name}.$`] = value;
        } else {
          out[name] = value;
        }
      }
      return out;
    };
    const query = fields('queryParameters', props.queryParameters);
    const body = fields('body', props.body);
    const timeout = props.timeout ?? Duration.seconds(30);
    if (!timeout.isUnresolved() && timeout.toSeconds() > HTTP_TASK_LIMIT_SECONDS) {
      invalid(where, `\`timeout\` must be at most ${HTTP_TASK_LIMIT_SECONDS} seconds for an HTTP stage (the HTTP task's own limit), got: ${timeout.toHumanString()}. Lower the timeout.`);
    }

    const input = props.input ?? StageContract.fromObject(requiredPaths(paths));
    const url = resourcePath ? `${props.apiRoot}/${resourcePath}` : props.apiRoot;
    const config: HttpStageConfig = { stage: id, kind: 'http', method, url: Token.isUnresolved(url) ? '(deploy-time URL)' : url };
    super(scope, id, {
      kind: StageKind.HTTP,
      code: stageCode(Bundles.HTTP, config, { input: input.schema, output: props.output.schema }),
      inputContract: input,
      outputContract: props.output,
      // The handler only checks the body and writes the audit record: S3's transient errors.
      transientErrors: [...TRANSIENT_ERRORS.s3],
      timeout,
      memorySize: props.memorySize ?? 256,
      retry: props.retry,
      standalone: props.standalone,
      description: `check the answer of ${method} ${config.url}`,
    });

    this.connection = props.connection ?? new events.Connection(this, 'Connection', {
      description: `cdk-ai-pipeline http stage ${id}: ${config.url}`,
      authorization: events.Authorization.apiKey(apiKeyHeader, SecretValue.secretsManager(props.apiKeySecret!.secretArn, {
        ...(props.apiKeySecretField ? { jsonField: props.apiKeySecretField } : {}),
      })),
    });

    const call = new tasks.HttpInvoke(this, 'Call', {
      stateName: httpCallState(id),
      comment: `http stage ${id}: ${method} ${config.url}`,
      apiRoot: props.apiRoot,
      apiEndpoint: sfn.TaskInput.fromText(resourcePath),
      method: sfn.TaskInput.fromText(method),
      connection: this.connection,
      ...(query ? { queryStringParameters: sfn.TaskInput.fromObject(query) } : {}),
      ...(body ? { body: sfn.TaskInput.fromObject(body) } : {}),
      ...(props.headers || body ? {
        headers: sfn.TaskInput.fromObject({ ...(body ? { 'Content-Type': 'application/json' } : {}), ...props.headers }),
      } : {}),
      resultSelector: { 'statusCode.$': '$.StatusCode', 'body.$': '$.ResponseBody' },
      resultPath: `$.results.${id}`,
      taskTimeout: sfn.Timeout.duration(timeout),
    });
    const shape = {
      maxAttempts: props.retry?.maxAttempts ?? 4,
      interval: props.retry?.interval ?? Duration.seconds(2),
      backoffRate: props.retry?.backoffRate ?? 2,
      maxDelay: props.retry?.maxDelay ?? Duration.seconds(60),
    };
    const retry = taskRetry(shape, [...TRANSIENT_ERRORS.http]);
    // The HTTP task is no Lambda: only the HTTP task's own transient errors.
    call.addRetry({ ...retry, errors: [...TRANSIENT_ERRORS.http] });
    this.callTask = call;
    this.startWith(call);

    // CDK's HttpInvoke grants states:InvokeHTTPEndpoint on '*' with a states:HTTPEndpoint condition.
    acknowledgeWildcards(Stack.of(this), [{
      matches: (f, actions) => f === 'Resource::*' && actions.length > 0 && actions.every((a) => a === 'states:InvokeHTTPEndpoint'),
      reason: 'states:InvokeHTTPEndpoint is granted on \'*\' by CDK\'s HttpInvoke task, narrowed by a states:HTTPEndpoint condition to the stage\'s apiRoot.',
    }]);
  }
}

/** An input contract that requires each path the request reads (`results.Parse.bin`). */
function requiredPaths(paths: string[]): object {
  const schema: any = cloneSchema(DOCUMENT_INPUT_SCHEMA);
  for (const p of paths) {
    let node = schema;
    for (const key of p.split('.')) {
      node.type = 'object';
      node.required = [...new Set([...(node.required ?? []), key])];
      node.properties = node.properties ?? {};
      node.properties[key] = node.properties[key] ?? {};
      node = node.properties[key];
    }
  }
  return schema;
}
