import { execSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { STAGE_METADATA, STANDALONE_METADATA, StageMetadata, StandaloneMetadata } from '../../shared/metadata';

/** What the Pipeline construct writes on its state machine resource (Metadata `cdk-ai-pipeline`). */
export interface PipelineMetadata {
  readonly version: number;
  readonly pipeline: string;
  /** 'STANDARD' or 'EXPRESS' (absent in assemblies synthesized before Express existed): the runner runs either alike. */
  readonly workflowType?: string;
  readonly stages: Array<{ id: string; kind: 'textract' | 'bedrock' | 'sagemaker' | 'lambda' | 'comprehend' | 'translate' | 'http' | 'transcribe'; handler: string }>;
  /** The recorder function and the states that call it; absent for a state machine of your own. */
  readonly recorder?: string;
  readonly records?: { run: string; failure: string };
  /** Where documents are uploaded; `bucket` only for stand-alone stages (the pipeline's is its trigger's). */
  readonly documents: { prefix: string; suffixes: string[]; bucket?: unknown };
  readonly destinations: Array<{ state: string; rule: string; destination: string; kind: string }>;
  /** Output steps (absent in assemblies synthesized before outputs existed). */
  readonly outputs?: Array<{ state: string; kind: string; handler: string }>;
  /** Human review steps: the task state (named as the review), the reviewed stage, the decision API's function. */
  readonly reviews?: Array<{ name: string; stage: string; handler: string }>;
  /** Chunked steps: the function behind their split/keep/reduce states (absent in older assemblies). */
  readonly chunks?: Array<{ step: string; stage: string; handler: string; states: string[] }>;
}

/** One Lambda function of the template, as the runner needs it. */
export interface LocalFunction {
  readonly logicalId: string;
  /** The function's asset folder in the cloud assembly, when it has one. */
  readonly assetDir?: string;
  /** `file.export` handler string. */
  readonly handler?: string;
  /** Environment variables, with references resolved to local names. */
  readonly env: { [name: string]: string };
  /** Timeout in seconds and memory in MB, when the template sets them as numbers. */
  readonly timeout?: number;
  readonly memorySize?: number;
}

/** A pipeline found in a cloud assembly. */
export interface LocalPipeline {
  readonly stackName: string;
  readonly stateMachineId: string;
  readonly meta: PipelineMetadata;
  /** The real definition, with references resolved to local names and ARNs. */
  readonly definition: any;
  readonly functions: { [logicalId: string]: LocalFunction };
  /** Local name of the bucket documents are uploaded to. */
  readonly documentBucket: string;
}

export const LOCAL_ACCOUNT = '000000000000';
export const LOCAL_REGION = 'us-east-1';

/** Runs a CDK app command into `outdir` (asset metadata on, so each function names its asset folder). */
export function synthesize(app: string, cwd: string, outdir: string): void {
  fs.mkdirSync(outdir, { recursive: true });
  try {
    execSync(app, {
      cwd,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: {
        ...process.env,
        CDK_OUTDIR: outdir,
        CDK_CONTEXT_JSON: JSON.stringify({ 'aws:cdk:enable-asset-metadata': true }),
        CDK_VALIDATION: process.env.CDK_VALIDATION ?? 'false',
      },
    });
  } catch (err: any) {
    const stderr = String(err?.stderr ?? '').trim().split('\n').slice(-15).join('\n');
    throw new RunnerError(`the CDK app failed to synthesize (\`${app}\` in ${cwd}):\n${stderr}`);
  }
}

/** The app command of `cdk.json` in a folder. */
export function appFromCdkJson(dir: string): string {
  const file = path.join(dir, 'cdk.json');
  if (!fs.existsSync(file)) {
    throw new RunnerError(`no CDK app: ${file} does not exist. Run in a CDK app folder, or pass --app "<command>".`);
  }
  const app = JSON.parse(fs.readFileSync(file, 'utf8')).app;
  if (typeof app !== 'string' || !app) throw new RunnerError(`no CDK app: ${file} has no "app" command. Add one, or pass --app.`);
  return app;
}

/** A runner error: reported as one clear line, exit code 2. */
export class RunnerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunnerError';
  }
}

/**
 * Finds every Pipeline state machine in the cloud assembly at `outdir`, and every state machine of
 * your own that runs stand-alone stages (no recorder, routing or destinations: what your definition does).
 */
export function loadPipelines(outdir: string): LocalPipeline[] {
  const out: LocalPipeline[] = [];
  for (const { templateFile, stackName, dir } of stackTemplates(outdir)) {
    const template = JSON.parse(fs.readFileSync(path.join(dir, templateFile), 'utf8'));
    const resources: { [id: string]: any } = template.Resources ?? {};
    for (const [id, res] of Object.entries(resources)) {
      if (res.Type !== 'AWS::StepFunctions::StateMachine') continue;
      const resolve = (v: any) => resolveRefs(v, resources);
      const definition = JSON.parse(resolve(res.Properties.DefinitionString));
      const meta = (res.Metadata?.['cdk-ai-pipeline'] as PipelineMetadata | undefined) ?? standaloneMetadata(id, res, definition, resources, resolve);
      if (!meta) continue;
      const functions: { [logicalId: string]: LocalFunction } = {};
      for (const [fid, fres] of Object.entries(resources)) {
        if (fres.Type !== 'AWS::Lambda::Function') continue;
        const assetPath = fres.Metadata?.['aws:asset:path'];
        functions[fid] = {
          logicalId: fid,
          assetDir: assetPath ? path.resolve(dir, assetPath) : undefined,
          handler: fres.Properties?.Handler,
          env: resolve(fres.Properties?.Environment?.Variables ?? {}),
          timeout: typeof fres.Properties?.Timeout === 'number' ? fres.Properties.Timeout : undefined,
          memorySize: typeof fres.Properties?.MemorySize === 'number' ? fres.Properties.MemorySize : undefined,
        };
      }
      out.push({ stackName, stateMachineId: id, meta, definition, functions, documentBucket: documentBucketName(resources, meta, resolve) });
    }
  }
  return out;
}

/**
 * The metadata of a state machine of your own whose definition runs stand-alone stages (their handler
 * functions carry `STAGE_METADATA`), in the order the definition names them; undefined when it runs none.
 */
function standaloneMetadata(
  id: string, res: any, definition: any, resources: { [id: string]: any }, resolve: (v: any) => any,
): PipelineMetadata | undefined {
  const text = JSON.stringify(definition);
  const found: Array<{ at: number; stage: PipelineMetadata['stages'][number]; standalone?: StandaloneMetadata }> = [];
  for (const [fid, fres] of Object.entries(resources)) {
    const stage = fres.Metadata?.[STAGE_METADATA] as StageMetadata | undefined;
    if (fres.Type !== 'AWS::Lambda::Function' || !stage) continue;
    const at = text.search(new RegExp(`function:${fid}(?![A-Za-z0-9])`));
    if (at < 0) continue;
    found.push({ at, stage: { id: stage.id, kind: stage.kind as any, handler: fid }, standalone: fres.Metadata?.[STANDALONE_METADATA] });
  }
  if (found.length === 0) return undefined;
  found.sort((a, b) => a.at - b.at);
  const where = found.find((f) => f.standalone)?.standalone;
  // Its name: the construct's id (from its path when the app records paths, else the logical id without its hash).
  const constructPath: string | undefined = res.Metadata?.['aws:cdk:path'];
  const parts = constructPath?.split('/') ?? [];
  const name = parts[parts.length - 1] === 'Resource' ? parts[parts.length - 2] : parts[parts.length - 1];
  return {
    version: 1,
    pipeline: name || id.replace(/[0-9A-F]{8}$/, ''),
    stages: found.map((f) => f.stage),
    documents: { prefix: where?.documentPrefix ?? '', suffixes: [], ...(where ? { bucket: resolve(where.documentBucket) } : {}) },
    destinations: [],
  };
}

/** The document bucket: the one the stages may read under the trigger's prefix; else the EventBridge rule's. */
function documentBucketName(resources: { [id: string]: any }, meta: PipelineMetadata, resolve: (v: any) => any): string {
  const own = meta.documents.bucket;
  if (typeof own === 'string') return own;
  for (const res of Object.values(resources)) {
    if (res.Type !== 'AWS::Events::Rule') continue;
    const pattern = res.Properties?.EventPattern;
    if (pattern?.source?.[0] === 'aws.s3' && pattern?.detail?.bucket?.name?.[0]) {
      return resolve(pattern.detail.bucket.name[0]);
    }
  }
  return `${meta.pipeline.toLowerCase()}-documents`;
}

function stackTemplates(outdir: string): Array<{ templateFile: string; stackName: string; dir: string }> {
  const manifestFile = path.join(outdir, 'manifest.json');
  if (!fs.existsSync(manifestFile)) throw new RunnerError(`no cloud assembly at ${outdir} (manifest.json is missing)`);
  const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8'));
  const found: Array<{ templateFile: string; stackName: string; dir: string }> = [];
  for (const [name, artifact] of Object.entries<any>(manifest.artifacts ?? {})) {
    if (artifact.type === 'aws:cloudformation:stack') {
      found.push({ templateFile: artifact.properties.templateFile, stackName: artifact.displayName ?? name, dir: outdir });
    } else if (artifact.type === 'cdk:cloud-assembly') {
      found.push(...stackTemplates(path.join(outdir, artifact.properties.directoryName)));
    }
  }
  return found;
}

/**
 * Resolves CloudFormation references to local names: buckets and functions get their logical id
 * (lowercased for buckets), ARNs are built in the local account and region.
 */
export function resolveRefs(value: any, resources: { [id: string]: any }): any {
  const arn = (id: string) => {
    const type: string = resources[id]?.Type ?? '';
    const svc = type.split('::')[1]?.toLowerCase() ?? 'local';
    switch (type) {
      case 'AWS::Lambda::Function': return `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${id}`;
      case 'AWS::S3::Bucket': return `arn:aws:s3:::${id.toLowerCase()}`;
      case 'AWS::SNS::Topic': return `arn:aws:sns:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${id}`;
      case 'AWS::SQS::Queue': return `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${id}`;
      case 'AWS::StepFunctions::StateMachine': return `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:${id}`;
      case 'AWS::Events::EventBus': return `arn:aws:events:${LOCAL_REGION}:${LOCAL_ACCOUNT}:event-bus/${id}`;
      case 'AWS::IAM::Role': return `arn:aws:iam::${LOCAL_ACCOUNT}:role/${id}`;
      default: return `arn:aws:${svc}:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${id}`;
    }
  };
  const ref = (id: string) => {
    switch (id) {
      case 'AWS::Partition': return 'aws';
      case 'AWS::Region': return LOCAL_REGION;
      case 'AWS::AccountId': return LOCAL_ACCOUNT;
      case 'AWS::URLSuffix': return 'amazonaws.com';
      case 'AWS::StackName': return 'local';
    }
    const type: string = resources[id]?.Type ?? '';
    if (type === 'AWS::S3::Bucket') return id.toLowerCase();
    if (type === 'AWS::SNS::Topic' || type === 'AWS::StepFunctions::StateMachine') return arn(id);
    if (type === 'AWS::SQS::Queue') return `https://sqs.${LOCAL_REGION}.amazonaws.com/${LOCAL_ACCOUNT}/${id}`;
    return id;
  };
  const visit = (v: any): any => {
    if (Array.isArray(v)) return v.map(visit);
    if (v === null || typeof v !== 'object') return v;
    if ('Ref' in v) return ref(v.Ref);
    if ('Fn::GetAtt' in v) {
      const [id, attr] = v['Fn::GetAtt'];
      if (attr === 'Arn') return arn(id);
      if (attr === 'QueueName' || attr === 'TopicName' || attr === 'Name') return id;
      return `${id}.${attr}`;
    }
    if ('Fn::Join' in v) {
      const [sep, parts] = v['Fn::Join'];
      return visit(parts).join(sep);
    }
    if ('Fn::Sub' in v) {
      const [tpl, vars] = Array.isArray(v['Fn::Sub']) ? v['Fn::Sub'] : [v['Fn::Sub'], {}];
      return String(tpl).replace(/\$\{([^}]+)\}/g, (_m, name: string) => {
        if (name in vars) return visit(vars[name]);
        const [id, attr] = name.split('.');
        return attr ? visit({ 'Fn::GetAtt': [id, attr] }) : ref(id);
      });
    }
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, visit(x)]));
  };
  return visit(value);
}
