/**
 * The user's own Lambda functions in a local run: each runs in a worker thread with its own
 * environment (the function's, plus the AWS SDK pointed at the runner's S3 endpoint on 127.0.0.1
 * and dummy credentials), so a function that reads a text pointer with the real SDK works
 * unchanged, and the runner's own `process.env` is never touched.
 */
import * as fs from 'fs';
import * as path from 'path';
import { LocalS3 } from './adapters/local-s3';
import { LocalPipeline, RunnerError } from './cloud-assembly';
import { createFunctionHost, FunctionHost, functionEnvironment } from './function-host';
import { parseModuleSpec, runnableFile } from './modules';
import { startS3Endpoint, startUnservedEndpoint } from './s3-endpoint';

/** An error as the run report shows it. */
export interface ErrorDetail {
  readonly name: string;
  readonly message?: string;
  /** The top lines of the stack of an error a user function threw. */
  readonly stack?: readonly string[];
  /** The user function that threw it. */
  readonly function?: string;
}

type Endpoints = { s3: { url: string; close(): Promise<void> }; unserved: { url: string; close(): Promise<void> } };

export class UserFunctions {
  /** The last error a user function threw in the current document's run. */
  public lastError: ErrorDetail | undefined;
  private readonly hosts = new Map<string, FunctionHost>();
  private endpoints: Promise<Endpoints> | undefined;

  constructor(
    private readonly pipeline: LocalPipeline,
    private readonly s3: LocalS3,
    private readonly modules: { readonly [id: string]: string },
    private readonly cwd: string,
  ) {}

  /** The handler of a function (ARN or name), or undefined when the app has no such function. */
  public resolve(functionArnOrName: string, document: () => string): ((event: any) => Promise<any>) | undefined {
    const logicalId = functionArnOrName.split(':').pop()!;
    const fn = this.pipeline.functions[logicalId];
    if (!fn) return undefined;
    return async (event: any) => {
      const host = await this.host(logicalId);
      try {
        return await host.invoke(event);
      } catch (err: any) {
        const stack = typeof err?.stack === 'string'
          ? err.stack.split('\n').slice(1).map((l: string) => l.trim()).filter((l: string) => l.startsWith('at ')).slice(0, 5)
          : undefined;
        this.lastError = { name: err?.name ?? 'Error', message: err?.message, stack, function: `${logicalId} (document ${document()})` };
        throw err;
      }
    };
  }

  private async host(logicalId: string): Promise<FunctionHost> {
    const existing = this.hosts.get(logicalId);
    if (existing) return existing;
    const fn = this.pipeline.functions[logicalId];
    const { modulePath, exportName } = this.moduleOf(logicalId);
    const endpoints = await this.startEndpoints();
    const host = createFunctionHost({
      name: logicalId,
      modulePath,
      exportName,
      timeoutMs: (fn.timeout ?? 3) * 1000,
      memoryMb: fn.memorySize ?? 128,
      env: functionEnvironment({
        functionName: logicalId,
        env: fn.env,
        s3Url: endpoints.s3.url,
        unservedUrl: endpoints.unserved.url,
        memoryMb: fn.memorySize,
        // Lambda provides the AWS SDK v3 on NODE_PATH; locally it comes from the app's node_modules
        // (the app folder's or, as Node resolves, a parent's: an app inside a workspace).
        nodePath: nodeModulesUp(this.cwd),
        taskRoot: fn.assetDir,
      }),
    });
    this.hosts.set(logicalId, host);
    return host;
  }

  /** The function's code: a module named with --function, else its asset from the cloud assembly. */
  private moduleOf(logicalId: string): { modulePath: string; exportName: string } {
    const key = Object.keys(this.modules).find((id) => logicalId === id || logicalId.startsWith(id.replace(/[^A-Za-z0-9]/g, '')));
    if (key) {
      const spec = parseModuleSpec(this.modules[key], this.cwd, 'handler');
      return { modulePath: runnableFile(spec.file, `--function ${key}`), exportName: spec.exportName };
    }
    const fn = this.pipeline.functions[logicalId];
    if (!fn.assetDir || !fn.handler) {
      throw new RunnerError(`the user function ${logicalId} has no Node.js asset in the cloud assembly; run it from a module of yours with --function ${logicalId}=<file>[#export]`);
    }
    const dot = fn.handler.lastIndexOf('.');
    const file = fn.handler.slice(0, dot);
    const modulePath = [`${file}.js`, `${file}.cjs`, `${file}.mjs`].map((f) => path.join(fn.assetDir!, f)).find((f) => fs.existsSync(f));
    if (!modulePath) {
      throw new RunnerError(`the user function ${logicalId}: ${file}.js is not in its asset folder ${fn.assetDir}; run it from a module of yours with --function ${logicalId}=<file>[#export]`);
    }
    return { modulePath, exportName: fn.handler.slice(dot + 1) };
  }

  private startEndpoints(): Promise<Endpoints> {
    if (!this.endpoints) {
      const advice = 'give this stage\'s function a module of yours with --function, or call the service from a stage kind the runner serves';
      this.endpoints = (async () => ({ s3: await startS3Endpoint(this.s3), unserved: await startUnservedEndpoint({ advice }) }))();
    }
    return this.endpoints;
  }

  /** Stops the workers and the endpoints. */
  public async close(): Promise<void> {
    await Promise.all([...this.hosts.values()].map((h) => h.close()));
    this.hosts.clear();
    if (this.endpoints) {
      const e = await this.endpoints;
      await Promise.all([e.s3.close(), e.unserved.close()]);
      this.endpoints = undefined;
    }
  }
}

/** `<dir>/node_modules` and each parent's, nearest first; the app folder's own is always listed. */
function nodeModulesUp(dir: string): string[] {
  const found = [path.join(dir, 'node_modules')];
  for (let d = path.dirname(dir); d !== path.dirname(d); d = path.dirname(d)) {
    const candidate = path.join(d, 'node_modules');
    if (fs.existsSync(candidate)) found.push(candidate);
  }
  return found;
}
