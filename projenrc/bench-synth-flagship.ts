/**
 * Synth time of the legal-contracts example from the TypeScript sources (no jsii compile needed),
 * median of N fresh processes, CloudFormation validation off:
 *   ts-node --transpile-only projenrc/bench-synth-flagship.ts [root=.] [N=5]
 * `root` may be another checkout of the repository (to compare before/after a change).
 */
import { execFileSync } from 'child_process';
/* eslint-disable @typescript-eslint/no-require-imports -- the sources are loaded from a root given at run time */
import * as path from 'path';

const root = path.resolve(process.argv[2] ?? '.');
const n = Number(process.argv[3] ?? 5);

if (process.env.BENCH_SYNTH_CHILD) {
  // Resolve 'cdk-ai-pipeline' to the sources of `root`.
  const Module = require('module');
  const resolve = Module._resolveFilename;
  Module._resolveFilename = function (request: string, ...rest: any[]) {
    return resolve.call(this, request === 'cdk-ai-pipeline' ? path.join(root, 'src/index.ts') : request, ...rest);
  };
  const { App } = require(path.join(root, 'node_modules/aws-cdk-lib'));
  const { LegalContractsStack } = require(path.join(root, 'examples/legal-contracts/lib/legal-contracts-stack'));
  const start = process.hrtime.bigint();
  const app = new App({ builtinCloudFormationValidation: false, outdir: require('fs').mkdtempSync(path.join(require('os').tmpdir(), 'bench-synth-')) });
  new LegalContractsStack(app, 'LegalContractIntake', { env: { account: '111111111111', region: 'us-east-1' } });
  app.synth();
  process.stdout.write(String(Number(process.hrtime.bigint() - start) / 1e6));
} else {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const out = execFileSync(process.execPath, [...process.execArgv, __filename, root, String(n)], {
      env: { ...process.env, BENCH_SYNTH_CHILD: '1', TS_NODE_TRANSPILE_ONLY: '1' },
      encoding: 'utf8',
    });
    times.push(Number(out));
  }
  times.sort((a, b) => a - b);
  console.log(`synth of the legal-contracts example from ${root}: median ${times[Math.floor(n / 2)].toFixed(0)} ms of ${n} (${times.map((t) => t.toFixed(0)).join(', ')})`);
}
