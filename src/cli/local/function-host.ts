/**
 * Runs a user's Lambda handler in a `worker_threads` Worker of its own, as Lambda runs it in a
 * sandbox of its own: the worker has the function's environment (the runner's `process.env` is
 * never touched), loads the module once (the init phase) and serves one invocation at a time, with
 * a Lambda-like context and the function's timeout. A thrown error comes back as Lambda reports it
 * (`errorType`, `errorMessage`, `trace`); a timeout ends the worker (`Sandbox.Timedout`), and the
 * next invocation starts a new one (a cold start), as Lambda replaces a timed-out sandbox.
 *
 * The function's console output goes to `onLog`; by default each line is written to the runner's
 * stderr prefixed with `[<function name>] `.
 */
import { randomUUID } from 'crypto';
import * as path from 'path';
import { Worker } from 'worker_threads';

/** The region a local run reports to the functions. */
export const LOCAL_FUNCTION_REGION = 'us-east-1';

/** Lambda's default timeout (3 s) and its init-phase limit (10 s). */
export const DEFAULT_TIMEOUT_MS = 3_000;
export const DEFAULT_INIT_TIMEOUT_MS = 10_000;

/** How many lines of an error's stack the rebuilt `stack` keeps. */
const STACK_LINES = 10;

/** One line of a function's output. */
export interface FunctionLogEntry {
  readonly functionName: string;
  /** The invocation the line belongs to (undefined for output of the init phase). */
  readonly requestId?: string;
  /** `log`, `info`, `warn`, `error`, `debug`, `trace` for console calls; `stdout`/`stderr` for raw writes. */
  readonly level: string;
  readonly message: string;
}

export interface FunctionHostSpec {
  /** The function's name (its context's functionName and the log prefix). */
  readonly name: string;
  /** A .js, .cjs or .mjs file (CommonJS or ES module). */
  readonly modulePath: string;
  /** The handler's export name (`main` for the handler `index.main`). */
  readonly exportName: string;
  /** The whole environment of the function (see `functionEnvironment`). */
  readonly env: { readonly [name: string]: string };
  /**
   * The function's timeout.
   * @default DEFAULT_TIMEOUT_MS (Lambda's default, 3 s)
   */
  readonly timeoutMs?: number;
  /**
   * How long loading the module may take.
   * @default DEFAULT_INIT_TIMEOUT_MS (Lambda's init limit, 10 s)
   */
  readonly initTimeoutMs?: number;
  /**
   * The function's memory (context.memoryLimitInMB; also the worker's heap limit).
   * @default 128
   */
  readonly memoryMb?: number;
  /**
   * Where the function's console output goes.
   * @default - each line to the runner's stderr, prefixed with `[<name>] `
   */
  readonly onLog?: (entry: FunctionLogEntry) => void;
}

/** An error the function raised, as Lambda reports it (and as an Error with the same name and message). */
export interface FunctionError extends Error {
  readonly errorType: string;
  readonly errorMessage: string;
  /** The stack's lines, as in Lambda's Unhandled payload (`stack` keeps the top ones). */
  readonly trace: readonly string[];
}

export interface FunctionHost {
  readonly name: string;
  /** Runs the handler with a JSON copy of `event`; resolves to a JSON copy of its result. */
  invoke(event: unknown): Promise<unknown>;
  /** Ends the worker (an invocation still running rejects). */
  close(): Promise<void>;
}

export interface FunctionEnvironmentOptions {
  readonly functionName: string;
  /** The function's own variables, as deployed. */
  readonly env?: { readonly [name: string]: string };
  /** The runner's S3 endpoint (`startS3Endpoint(...).url`): AWS_ENDPOINT_URL_S3. */
  readonly s3Url: string;
  /** The catch-all for other services (`startUnservedEndpoint().url`): AWS_ENDPOINT_URL. */
  readonly unservedUrl: string;
  /** @default LOCAL_FUNCTION_REGION */
  readonly region?: string;
  /** @default 128 */
  readonly memoryMb?: number;
  /**
   * Folders searched for bare `require`s the function's folder does not satisfy, like Lambda's
   * NODE_PATH (which holds the runtime's AWS SDK): e.g. the project's node_modules.
   * @default - none
   */
  readonly nodePath?: readonly string[];
  /** @default - the dir of the module is unknown: LAMBDA_TASK_ROOT is not set */
  readonly taskRoot?: string;
}

/**
 * The environment a user function gets locally: its own variables, then what Lambda reserves
 * (region, function name, dummy credentials) and the runner's endpoints, which win over the
 * function's variables as Lambda's reserved variables do. Nothing of the runner's own environment
 * is passed on except PATH, so credentials and profiles of the shell never reach the function.
 */
export function functionEnvironment(options: FunctionEnvironmentOptions): { [name: string]: string } {
  const region = options.region ?? LOCAL_FUNCTION_REGION;
  const name = options.functionName;
  const noAwsConfig = path.join(path.sep, 'nonexistent', 'cdk-ai-pipeline-local', 'aws-config');
  return {
    ...(process.env.PATH ? { PATH: process.env.PATH } : {}),
    LANG: 'en_US.UTF-8',
    ...options.env,
    ...(options.nodePath && options.nodePath.length > 0 ? { NODE_PATH: options.nodePath.join(path.delimiter) } : {}),
    ...(options.taskRoot ? { LAMBDA_TASK_ROOT: options.taskRoot } : {}),
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_LAMBDA_FUNCTION_NAME: name,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(options.memoryMb ?? 128),
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${name}`,
    AWS_LAMBDA_LOG_STREAM_NAME: 'local',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_S3: options.s3Url,
    AWS_ENDPOINT_URL: options.unservedUrl,
    // No instance metadata and no shared config files: only the variables above configure the SDK.
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: noAwsConfig,
    AWS_SHARED_CREDENTIALS_FILE: noAwsConfig,
  };
}

/** Creates the host of one function; the worker starts on the first invocation. */
export function createFunctionHost(spec: FunctionHostSpec): FunctionHost {
  const timeoutMs = spec.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const initTimeoutMs = spec.initTimeoutMs ?? DEFAULT_INIT_TIMEOUT_MS;
  const memoryMb = spec.memoryMb ?? 128;
  const onLog = spec.onLog ?? ((entry: FunctionLogEntry) => process.stderr.write(`[${entry.functionName}] ${entry.message}\n`));
  const log = (level: string, message: string, requestId?: string) => onLog({ functionName: spec.name, requestId, level, message });

  let sandbox: Sandbox | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  let closed = false;

  const started = async (): Promise<Sandbox> => {
    if (sandbox && !sandbox.dead) return sandbox;
    sandbox = new Sandbox(spec, memoryMb, log);
    try {
      await sandbox.call({ type: 'init' }, initTimeoutMs, () => timedOut(spec.name, initTimeoutMs, 'its init phase'));
    } catch (err) {
      await sandbox.end();
      sandbox = undefined;
      throw err;
    }
    return sandbox;
  };

  const run = async (event: unknown): Promise<unknown> => {
    if (closed) throw new Error(`the function host of ${spec.name} is closed`);
    const payload = JSON.stringify(event === undefined ? null : event);
    const box = await started();
    const requestId = randomUUID();
    const answer = await box.call({ type: 'invoke', requestId, payload, timeoutMs }, timeoutMs, () => timedOut(spec.name, timeoutMs, 'an invocation'));
    return JSON.parse(answer as string);
  };

  return {
    name: spec.name,
    invoke: (event) => {
      const result = queue.then(() => run(event));
      queue = result.catch(() => undefined);
      return result;
    },
    close: async () => {
      closed = true;
      const box = sandbox;
      sandbox = undefined;
      await box?.end();
    },
  };
}

/** What the worker reports as Lambda reports an error. */
interface LambdaErrorPayload {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly trace: string[];
}

/** Rebuilds the error of a Lambda error payload. */
export function functionError(payload: LambdaErrorPayload): FunctionError {
  const err = new Error(payload.errorMessage) as Error & { errorType: string; errorMessage: string; trace: string[] };
  err.name = payload.errorType;
  err.errorType = payload.errorType;
  err.errorMessage = payload.errorMessage;
  err.trace = payload.trace;
  err.stack = payload.trace.length > 0
    ? payload.trace.slice(0, STACK_LINES).join('\n')
    : `${payload.errorType}: ${payload.errorMessage}`;
  return err;
}

function timedOut(name: string, ms: number, what: string): FunctionError {
  return functionError({
    errorType: 'Sandbox.Timedout',
    errorMessage: `the function ${name} timed out after ${ms} ms in ${what}`,
    trace: [],
  });
}

/** One worker and the call it is serving. */
class Sandbox {
  public dead = false;
  private readonly worker: Worker;
  private pending?: { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout; requestId?: string };

  constructor(spec: FunctionHostSpec, memoryMb: number, log: (level: string, message: string, requestId?: string) => void) {
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      env: { ...spec.env },
      workerData: {
        modulePath: path.resolve(spec.modulePath),
        exportName: spec.exportName,
        functionName: spec.name,
        memoryMb,
        region: spec.env.AWS_REGION ?? LOCAL_FUNCTION_REGION,
      },
      stdout: true,
      stderr: true,
      resourceLimits: { maxOldGenerationSizeMb: Math.max(memoryMb, 64) },
    });
    this.worker.unref();
    for (const stream of ['stdout', 'stderr'] as const) {
      let rest = '';
      this.worker[stream].setEncoding('utf8');
      this.worker[stream].on('data', (chunk: string) => {
        const lines = (rest + chunk).split('\n');
        rest = lines.pop()!;
        for (const line of lines) log(stream, line, this.pending?.requestId);
      });
      this.worker[stream].on('end', () => {
        if (rest) log(stream, rest);
        rest = '';
      });
    }
    this.worker.on('message', (msg: any) => {
      if (msg?.type === 'log') return log(msg.level, msg.message, msg.requestId);
      if (msg?.type !== 'done') return;
      const pending = this.settle();
      if (!pending) return;
      if (msg.ok) pending.resolve(msg.payload);
      else pending.reject(functionError(msg.error));
    });
    this.worker.on('error', (err: any) => {
      // The worker died of an error no handler caught (e.g. an unhandled rejection after it answered).
      this.dead = true;
      const type = err?.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'Runtime.OutOfMemory'
        : err?.code === 'ERR_UNHANDLED_REJECTION' ? 'Runtime.UnhandledPromiseRejection'
          : typeof err?.name === 'string' ? err.name : 'Error';
      const trace = typeof err?.stack === 'string' ? err.stack.split('\n') : [];
      this.settle()?.reject(functionError({ errorType: type, errorMessage: String(err?.message ?? err), trace }));
    });
    this.worker.on('exit', (code) => {
      this.dead = true;
      this.settle()?.reject(functionError({
        errorType: 'Runtime.ExitError',
        errorMessage: `the function ${spec.name} exited with status ${code} before it answered`,
        trace: [],
      }));
    });
  }

  /** Sends a request and waits for its answer, ending the worker after `ms`. */
  public call(message: { type: string; requestId?: string; [k: string]: unknown }, ms: number, onTimeout: () => Error): Promise<unknown> {
    if (this.dead) return Promise.reject(new Error('the function\'s worker has ended'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.settle()?.reject(onTimeout());
        void this.end();
      }, ms);
      this.pending = { resolve, reject, timer, requestId: message.requestId };
      this.worker.ref();
      this.worker.postMessage(message);
    });
  }

  public async end(): Promise<void> {
    this.dead = true;
    this.settle()?.reject(new Error('the function host was closed during the invocation'));
    await this.worker.terminate();
  }

  private settle() {
    const pending = this.pending;
    this.pending = undefined;
    if (pending) clearTimeout(pending.timer);
    this.worker.unref();
    return pending;
  }
}

/**
 * The worker (plain JavaScript, run with `eval`, so it works from the TypeScript sources and from
 * the bundled CLI alike). Lambda's Node.js runtime is the model: it loads the handler on `init`
 * (ImportModuleError / HandlerNotFound), passes (event, context[, callback]), and reports a thrown
 * value as { errorType, errorMessage, trace }.
 */
const WORKER_SOURCE = String.raw`
const { parentPort, workerData } = require('worker_threads');
const util = require('util');
const { pathToFileURL } = require('url');
const Module = require('module');

// NODE_PATH (Lambda puts its runtime's SDK there) is read when a module system starts: read it again
// from this worker's environment.
if (process.env.NODE_PATH && typeof Module._initPaths === 'function') Module._initPaths();

// Lambda runs Node 22 or later: the SDK's notice about this machine's Node version is not the function's.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = (warning, ...rest) => {
  const type = typeof warning === 'string' ? (typeof rest[0] === 'string' ? rest[0] : rest[0] && rest[0].type) : warning && warning.name;
  const text = typeof warning === 'string' ? warning : String(warning && warning.message);
  if (type === 'NodeVersionSupportWarning' || /^NodeVersionSupportWarning\b/.test(text)) return;
  emitWarning(warning, ...rest);
};

let requestId;
const post = (message) => parentPort.postMessage(message);
for (const level of ['log', 'info', 'warn', 'error', 'debug', 'trace']) {
  console[level] = (...args) => post({ type: 'log', level, requestId, message: util.format(...args) });
}
console.dir = (value, options) => post({ type: 'log', level: 'log', requestId, message: util.inspect(value, options) });

function lambdaError(err) {
  if (err instanceof Error) {
    const stack = typeof err.stack === 'string' ? err.stack.split('\n') : [];
    return { errorType: err.name || 'Error', errorMessage: String(err.message), trace: stack };
  }
  let message;
  try { message = typeof err === 'string' ? err : JSON.stringify(err); } catch { message = String(err); }
  return { errorType: typeof err, errorMessage: String(message), trace: [] };
}

function named(type, message, cause) {
  const err = new Error(message);
  err.name = type;
  if (cause && typeof cause.stack === 'string') err.stack = type + ': ' + message + '\n' + cause.stack;
  return err;
}

async function load() {
  const { modulePath, exportName } = workerData;
  let mod;
  try {
    if (modulePath.endsWith('.mjs')) {
      mod = await import(pathToFileURL(modulePath).href);
    } else {
      try {
        mod = require(modulePath);
      } catch (err) {
        if (!err || (err.code !== 'ERR_REQUIRE_ESM' && err.code !== 'ERR_REQUIRE_ASYNC_MODULE')) throw err;
        mod = await import(pathToFileURL(modulePath).href);
      }
    }
  } catch (err) {
    const type = err instanceof SyntaxError ? 'Runtime.UserCodeSyntaxError' : 'Runtime.ImportModuleError';
    throw named(type, (err && err.message) || String(err), err);
  }
  const handler = mod && (typeof mod[exportName] === 'function' ? mod[exportName]
    : mod.default && typeof mod.default[exportName] === 'function' ? mod.default[exportName] : undefined);
  if (!handler) {
    throw named('Runtime.HandlerNotFound', modulePath + ': ' + exportName + ' is undefined or not exported');
  }
  return handler;
}

let handler;

function call(fn, event, context) {
  return new Promise((resolve, reject) => {
    const callback = (err, result) => (err ? reject(err) : resolve(result));
    context.done = callback;
    context.succeed = (result) => resolve(result);
    context.fail = (err) => reject(err);
    const out = fn.length >= 3 ? fn(event, context, callback) : fn(event, context);
    if (fn.length < 3 || (out && typeof out.then === 'function')) Promise.resolve(out).then(resolve, reject);
  });
}

parentPort.on('message', async (msg) => {
  if (msg.type === 'init') {
    try {
      handler = await load();
      post({ type: 'done', ok: true, payload: null });
    } catch (err) {
      post({ type: 'done', ok: false, error: lambdaError(err) });
    }
    return;
  }
  if (msg.type !== 'invoke') return;
  requestId = msg.requestId;
  const deadline = Date.now() + msg.timeoutMs;
  const { functionName, memoryMb, region } = workerData;
  const context = {
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:' + region + ':000000000000:function:' + functionName,
    memoryLimitInMB: String(memoryMb),
    awsRequestId: msg.requestId,
    logGroupName: '/aws/lambda/' + functionName,
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  let answer;
  try {
    const result = await call(handler, JSON.parse(msg.payload), context);
    let payload;
    try {
      payload = result === undefined ? 'null' : JSON.stringify(result);
    } catch (err) {
      throw named('Runtime.MarshalError', 'Unable to stringify response body: ' + err.message, err);
    }
    answer = { type: 'done', ok: true, payload };
  } catch (err) {
    answer = { type: 'done', ok: false, error: lambdaError(err) };
  }
  requestId = undefined;
  post(answer);
});
`;
