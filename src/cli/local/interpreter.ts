/**
 * The one loader of the Step Functions interpreter (aws-local-stepfunctions), shared by the local
 * runner and the test helpers.
 *
 * aws-local-stepfunctions 3 calls `Promise.withResolvers`, which Node 22 has and Node 20 lacks. We
 * never patch the global `Promise`: on Node 20 the package's CommonJS build is compiled with its one
 * `Promise.withResolvers` call pointed at a local function. In the CLI bundle esbuild does the same
 * at build time (see `.projenrc.ts` and `with-resolvers.inject.ts`).
 */
import * as fs from 'fs';
import * as path from 'path';
import type * as Sfn from 'aws-local-stepfunctions' with { 'resolution-mode': 'import' };

export type Interpreter = typeof Sfn;

const CALL = 'Promise.withResolvers';
const LOCAL_NAME = '__cdkAiPipelineWithResolvers';

let cached: Interpreter | undefined;

/** The interpreter module, loaded once per process without touching any global. */
export function loadInterpreter(): Interpreter {
  if (cached) return cached;
  // In the CLI bundle this reads the injected function (esbuild's define), so the bundled copy loads as it is.
  const native = typeof (Promise as any).withResolvers === 'function';
  let file: string | undefined;
  if (!native) {
    try {
      file = require.resolve('aws-local-stepfunctions');
    } catch {
      file = undefined;
    }
  }
  const source = file ? fs.readFileSync(file, 'utf8') : '';
  if (!file || !source.includes(CALL)) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    cached = require('aws-local-stepfunctions') as Interpreter;
    return cached;
  }
  // Node 20: evaluate the package's CommonJS build with its one call pointed at a function of its own
  // scope. It is evaluated in the caller's realm (a test's sandbox too), with its dependencies
  // required from where the package is.
  const dir = path.dirname(file);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const requireFromPackage = (id: string) => require(require.resolve(id, { paths: [dir] }));
  const local = `const ${LOCAL_NAME} = () => { let resolve, reject; const promise = new Promise((res, rej) => { resolve = res; reject = rej; }); return { promise, resolve, reject }; };`;
  const mod: { exports: any } = { exports: {} };
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const factory = new Function('exports', 'require', 'module', '__filename', '__dirname', `${local}\n${source.split(CALL).join(LOCAL_NAME)}`);
  factory(mod.exports, requireFromPackage, mod, file, dir);
  cached = mod.exports as Interpreter;
  return cached;
}
