import { awscdk, javascript } from 'projen';

/** The oldest aws-cdk-lib we support (cdk-nag 3 needs at least this one). Tests run on the newest. */
const CDK_MIN = '2.258.0';
/** One AWS SDK v3 line for every handler, bundled (not taken from the Lambda runtime). */
const AWS_SDK = '^3.1164.0';

const project = new awscdk.AwsCdkConstructLibrary({
  name: 'cdk-ai-pipeline',
  description:
    'Composable AWS CDK constructs for multi-stage AI document pipelines on Step Functions: ' +
    'typed stage contracts, least-privilege stages, deterministic routing and audit.',
  author: 'cdk-ai-pipeline maintainers',
  authorAddress: 'maintainers@cdk-ai-pipeline.dev',
  repositoryUrl: 'https://github.com/cdk-ai-pipeline/cdk-ai-pipeline.git',
  license: 'Apache-2.0',
  keywords: ['cdk', 'aws-cdk', 'step-functions', 'textract', 'bedrock', 'sagemaker', 'idp', 'ai', 'pipeline'],
  defaultReleaseBranch: 'main',
  projenrcTs: true,
  packageManager: javascript.NodePackageManager.NPM,
  minNodeVersion: '20.0.0',
  workflowNodeVersion: '22.x',

  jsiiVersion: '~6.0.0',
  cdkVersion: CDK_MIN,
  // peer stays ">= CDK_MIN", while the dev copy resolves to the newest release.
  cdkVersionPinning: false,
  constructsVersion: '10.5.1',
  peerDependencyOptions: { pinnedDevDependency: false },

  publishToPypi: { distName: 'cdk-ai-pipeline', module: 'cdk_ai_pipeline' },
  publishToMaven: {
    javaPackage: 'dev.cdkaipipeline',
    mavenGroupId: 'dev.cdk-ai-pipeline',
    mavenArtifactId: 'cdk-ai-pipeline',
  },

  sampleCode: false,
  lambdaAutoDiscover: false,
  integrationTestAutoDiscover: false,

  // Synth-time code generation of contract validators (ajv standalone); shipped inside the package.
  bundledDeps: ['ajv@^8.17.1', 'ajv-formats@3.0.1'],
  devDeps: [
    'aws-cdk-lib@^2.276.0',
    'constructs@^10.5.1',
    'cdk-nag@^3.0.2',
    'esbuild@^0.28.0',
    'aws-sdk-client-mock@^4.1.0',
    'aws-sdk-client-mock-jest@^4.1.0',
    '@types/aws-lambda@^8.10.160',
    `@aws-sdk/client-s3@${AWS_SDK}`,
    `@aws-sdk/client-textract@${AWS_SDK}`,
    `@aws-sdk/client-bedrock-runtime@${AWS_SDK}`,
    `@aws-sdk/client-sagemaker-runtime@${AWS_SDK}`,
    `@aws-sdk/client-sfn@${AWS_SDK}`,
    `@aws-sdk/client-eventbridge@${AWS_SDK}`,
    `@aws-sdk/client-lambda@${AWS_SDK}`,
    // Not every client is published with every SDK release: the newest of each at the time of writing.
    '@aws-sdk/client-comprehend@^3.1138.0',
    '@aws-sdk/client-translate@^3.1141.0',
    '@aws-sdk/client-transcribe@^3.1141.0',
    // The SQS result output sends the result document (or one approved field of it) to a queue.
    `@aws-sdk/client-sqs@${AWS_SDK}`,
    // The local runner's stand-in for Comprehend's dominant-language detection (bundled into the CLI).
    'tinyld@^1.3.4',
    // Triggers and outputs: presigned upload URLs (the API trigger) and SigV4-signed OpenSearch requests (the index output).
    '@aws-sdk/s3-request-presigner@^3.1169.0',
    '@smithy/signature-v4@^5.7.5',
    // Tests only: the local runner's unserved-service endpoint answers in their protocols (JSON 1.0, query).
    `@aws-sdk/client-dynamodb@${AWS_SDK}`,
    `@aws-sdk/client-sns@${AWS_SDK}`,
    'pdf-lib@^1.17.1',
    // The local runner's PDF text reader: pdf.js, serverless build (no worker, no canvas), bundled into
    // the CLI. Pinned: newer unpdf releases may need Node 22; 1.8.1 runs on Node 20 and 22.
    'unpdf@1.8.1',
    'aws-local-stepfunctions@3.0.0',
    // Strings that match a contract's `pattern`, for the local runner's stand-in models (bundled into the CLI).
    'randexp@^0.6.1',
    // `npx cdk synth` in the example folder, offline.
    'aws-cdk@^2.1148.1',
  ],

  jestOptions: {
    // Snapshots are checked, never rewritten by the test task.
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
    jestConfig: {
      testTimeout: 300_000,
      // One worker per core. Jest's default (cores - 1) runs the suite in band on a 2-core CI machine:
      // measured on 13 of the suites there, 172 s in band against 105 s on two workers.
      maxWorkers: '100%',
      // Generated and vendored code is not ours to cover.
      coveragePathIgnorePatterns: ['/node_modules/', '/test/'],
      // The example imports the package by name, as a user would; in tests that is this source tree.
      // unpdf loads pdf.js (ES modules) with import(): jest runs them as CommonJS through esbuild
      // (projenrc/jest-esm-transform.js), so tests need no --experimental-vm-modules.
      moduleNameMapper: {
        '^cdk-ai-pipeline$': '<rootDir>/src/index.ts',
        '^unpdf/pdfjs$': '<rootDir>/node_modules/unpdf/dist/pdfjs.mjs',
      },
      transform: { '^.+/node_modules/unpdf/dist/.+\\.(mjs|cjs)$': new javascript.Transform('<rootDir>/projenrc/jest-esm-transform.js') },
      transformIgnorePatterns: ['/node_modules/(?!unpdf/)'],
    },
  },
  gitignore: ['/assets/', '/.tmp/', '*.meta.json', '/.demo/', 'cdk.out/'],
  bin: { 'cdk-ai-pipeline': 'bin/cdk-ai-pipeline' },
});

// --- Lambda handlers: bundled and minified with esbuild when the library builds (no Docker, no esbuild
// at the consumer's synth). One entry per handler; the construct code points at assets/<name>/index.js.
const HANDLERS = [
  'src/stages/textract/handler/textract.entry.ts',
  'src/stages/bedrock/handler/bedrock.entry.ts',
  'src/stages/sagemaker/handler/sagemaker.entry.ts',
  // The same handlers with the capacity control's DynamoDB store, for stages given a quota (ADR-0034).
  'src/stages/textract/handler/textract-quota.entry.ts',
  'src/stages/bedrock/handler/bedrock-quota.entry.ts',
  'src/stages/sagemaker/handler/sagemaker-quota.entry.ts',
  'src/stages/lambda/handler/lambda-proxy.entry.ts',
  'src/stages/comprehend/handler/comprehend.entry.ts',
  'src/stages/translate/handler/translate.entry.ts',
  'src/stages/http/handler/http.entry.ts',
  'src/stages/transcribe/handler/transcribe.entry.ts',
  'src/trigger/handler/starter.entry.ts',
  'src/trigger/handler/api.entry.ts',
  'src/trigger/handler/batch-starter.entry.ts',
  'src/outputs/handler/output.entry.ts',
  'src/audit/handler/recorder.entry.ts',
  'src/review/handler/decision.entry.ts',
  'src/pipeline/handler/chunks.entry.ts',
];
const bundling = {
  platform: 'node',
  target: 'node22',
  format: 'cjs',
  minify: true,
  sourcemap: false,
  externals: [],
  metafile: true,
  // The packages' ES builds first (the AWS SDK's dist-es): esbuild can drop what a
  // handler never imports (unused commands and their schemas) only from ES modules. Textract's bundle
  // 1,057 -> 779 KB, its require 277 -> 181 ms (ADR-0032, docs/benchmarks.md).
  mainFields: ['module', 'main'],
};
for (const entry of HANDLERS) {
  project.bundler.addBundle(entry, bundling);
}
// The local runner (the `cdk-ai-pipeline` bin): one self-contained bundle, so the npm package needs no
// runtime dependency for it. Its local adapters dispatch on SDK command class names: keep names.
// Node 20 lacks Promise.withResolvers, which aws-local-stepfunctions calls: the bundle points that one
// call at an injected function instead of patching the global (see src/cli/local/interpreter.ts).
project.bundler.addBundle('src/cli/cli.entry.ts', {
  ...bundling,
  // Its size is not on any cold start: the packages' CommonJS builds, as they have always been tested.
  mainFields: ['main', 'module'],
  keepNames: true,
  esbuildArgs: {
    '--define:Promise.withResolvers': '__cdkAiPipelineWithResolvers',
    '--inject:src/cli/local/with-resolvers.inject.ts': true,
  },
});

// Handlers (and their SDK-using helpers) are compiled by jsii too; only the esbuild bundles ship.
project.npmignore?.addPatterns(
  '/lib/**/handler/',
  '/lib/runtime/',
  '/lib/cli/',
  '*.meta.json',
  '!/assets/',
  '/.tmp/',
  '/.ci/',
  '/docs/',
  '/examples/',
);

// README examples compile, strictly (Construct Hub transliterates them to Python and Java).
project.package.file.addOverride('jsii.metadata.jsii.rosetta.strict', true);
project.postCompileTask.exec('jsii-rosetta extract --strict --compile');
project.gitignore.exclude('.jsii.tabl.json');

// The audit record schema is part of the API (AuditSink.RECORD_SCHEMA_FILE): ship it beside the code.
project.postCompileTask.prependExec('cp src/audit/audit-record.schema.json lib/audit/audit-record.schema.json');
// The result document schema is part of the API too (ResultOutput.RESULT_DOCUMENT_SCHEMA_FILE).
project.postCompileTask.prependExec('cp src/outputs/result-document.schema.json lib/outputs/result-document.schema.json');

// Handlers bundle the AWS SDK clients (dev dependencies on purpose: esbuild inlines them).
project.eslint?.allowDevDeps('src/**/handler/**');
project.eslint?.allowDevDeps('src/runtime/**');
project.eslint?.allowDevDeps('src/cli/**');

// Tests are transpiled only by ts-jest: type-check them as part of the test task. The handler bundles
// must exist before any construct test synthesizes, so `npm test` works on a fresh clone.
// The example imports the package by name, as a user would; tests type-check it against this source tree.
project.tryFindObjectFile('test/tsconfig.json')?.addOverride('compilerOptions.paths', { 'cdk-ai-pipeline': ['../src/index.ts'] });

// CI runs `npm test`, then `projen build`, whose test step would run the whole suite again: with
// CDK_AI_PIPELINE_SUITE_PASSED set (by .ci/run, after `npm test` passed) the build skips it.
const suiteNotRun = '[ -z "$CDK_AI_PIPELINE_SUITE_PASSED" ]';
project.testTask.reset();
project.testTask.spawn(project.tasks.tryFind('bundle')!);
project.testTask.exec('tsc --noEmit -p test/tsconfig.json', { condition: suiteNotRun });
project.testTask.exec('jest --passWithNoTests --ci', { receiveArgs: true, condition: suiteNotRun });
project.testTask.spawn(project.tasks.tryFind('eslint')!, { condition: suiteNotRun });

// Node 20 is end-of-life but still what many users and this CI run: keep jsii quiet about it.
project.tasks.addEnvironment('JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION', '20');

// The dev copy of aws-cdk-lib is deliberately newer than the peer minimum (tests run on the newest).
project.compileTask.reset('jsii --silence-warnings=reserved-word --silence-warnings=metadata/missing-dev-dependency');

// `npm run demo` (the flagship) and `npm run demo:<example>`: build what the example needs, then run it
// on its samples with the local runner and its scenario's review decisions.
function exampleDemo(task: string, example: string, description: string) {
  const t = project.addTask(task, { description });
  t.spawn(project.tasks.tryFind('bundle')!);
  t.spawn(project.compileTask);
  // The example imports 'cdk-ai-pipeline' as a user would: resolve it to this build.
  t.exec('ln -sfn .. node_modules/cdk-ai-pipeline');
  t.exec(`node ../../bin/cdk-ai-pipeline local --documents samples --scenario scenarios/demo.json --out ../../.demo/${example}`, { cwd: `examples/${example}` });
}
exampleDemo('demo', 'legal-contracts', 'Run the legal-contracts example on its sample documents, locally, with no AWS account');
exampleDemo('demo:call-center', 'call-center', 'Run the call-center example on its sample recordings, locally, with no AWS account');

// The examples' sample documents, made by deterministic scripts (committed; regenerate with these tasks).
const samples = project.addTask('samples', {
  description: 'Regenerate the sample documents of every example (deterministic)',
  exec: 'ts-node --transpile-only projenrc/make-samples.ts',
});
const callCenterSamples = project.addTask('samples:call-center', {
  description: 'Regenerate the call-center sample recordings (WAV files carrying their transcripts) and expected outcomes',
  exec: 'ts-node --transpile-only projenrc/make-call-center-samples.ts',
});
samples.spawn(callCenterSamples);

// Sample PDFs include deliberately broken ones that look like text: never convert their line endings.
project.gitattributes.addAttributes('*.pdf', 'binary');
project.gitattributes.addAttributes('*.wav', 'binary');

// The construct code must compile against the peer minimum of aws-cdk-lib, not only the newest.
project.addTask('check:cdk-min', {
  description: 'Type-check the constructs against the oldest aws-cdk-lib the package accepts',
  exec: 'bash projenrc/check-cdk-min.sh',
});

// `npm run bench`: the figures of docs/benchmarks.md, measured on this machine (not a test).
const bench = project.addTask('bench', { description: 'Print synth time, transitions, handler cold starts beside their floors, runner throughput, a simulated day under quotas' });
bench.spawn(project.tasks.tryFind('bundle')!);
bench.spawn(project.compileTask);
bench.exec('ln -sfn .. node_modules/cdk-ai-pipeline');
bench.exec('ts-node --transpile-only projenrc/bench.ts', { receiveArgs: true });

// Package the same way locally and in CI: the npm tarball, plus the Python and Java sources
// (jsii-pacmak --code-only). Building the wheel or the jar needs PyPI / Maven Central.
project.packageTask.reset();
project.packageTask.exec('jsii-pacmak -v --target js');
project.packageTask.exec('jsii-pacmak --code-only --target python --target java');

project.synth();
