import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { generateValidators } from './validator-codegen';
import { StageAssetFiles } from '../shared/types';

/** Folder of the esbuild bundles made when the library is built (`assets/<bundle>/index.js`). */
const ASSETS_DIR = path.join(__dirname, '..', '..', 'assets');

/** The handler bundles shipped in the package. */
export const Bundles = {
  TEXTRACT: 'stages/textract/handler/textract.entry',
  BEDROCK: 'stages/bedrock/handler/bedrock.entry',
  SAGEMAKER: 'stages/sagemaker/handler/sagemaker.entry',
  LAMBDA_PROXY: 'stages/lambda/handler/lambda-proxy.entry',
  COMPREHEND: 'stages/comprehend/handler/comprehend.entry',
  TRANSLATE: 'stages/translate/handler/translate.entry',
  HTTP: 'stages/http/handler/http.entry',
  TRANSCRIBE: 'stages/transcribe/handler/transcribe.entry',
  // A stage given a quota: the same handler with the capacity control's DynamoDB store (ADR-0034).
  TEXTRACT_QUOTA: 'stages/textract/handler/textract-quota.entry',
  BEDROCK_QUOTA: 'stages/bedrock/handler/bedrock-quota.entry',
  SAGEMAKER_QUOTA: 'stages/sagemaker/handler/sagemaker-quota.entry',
  STARTER: 'trigger/handler/starter.entry',
  API_TRIGGER: 'trigger/handler/api.entry',
  BATCH_STARTER: 'trigger/handler/batch-starter.entry',
  OUTPUT: 'outputs/handler/output.entry',
  RECORDER: 'audit/handler/recorder.entry',
  REVIEW_DECISION: 'review/handler/decision.entry',
  CHUNKS: 'pipeline/handler/chunks.entry',
} as const;

/** The stage kinds that can take a quota, and their bundle with the capacity control's DynamoDB store. */
const QUOTA_BUNDLES: { readonly [bundle: string]: string } = {
  [Bundles.TEXTRACT]: Bundles.TEXTRACT_QUOTA,
  [Bundles.BEDROCK]: Bundles.BEDROCK_QUOTA,
  [Bundles.SAGEMAKER]: Bundles.SAGEMAKER_QUOTA,
};

/**
 * The bundle a stage runs: its kind's `-quota` bundle when it is given a quota, else the plain one,
 * which has no DynamoDB client (ADR-0034).
 */
export function stageBundle(bundle: string, quota: unknown): string {
  if (quota === undefined) return bundle;
  const withQuota = QUOTA_BUNDLES[bundle];
  if (!withQuota) throw new Error(`cdk-ai-pipeline: the handler bundle '${bundle}' has no variant with capacity control, so its stage cannot take a quota`);
  return withQuota;
}

/** Path of a prebuilt handler bundle; fails with the fix when the library was not built. */
export function bundleFile(bundle: string): string {
  const file = path.join(ASSETS_DIR, bundle, 'index.js');
  if (!fs.existsSync(file)) {
    throw new Error(`cdk-ai-pipeline: the handler bundle '${bundle}' is missing at ${file}. In a checkout of the library, run 'npx projen bundle' (or 'npm test', which bundles first); an installed package always ships it.`);
  }
  return file;
}

/** Code of a handler that needs nothing beside its bundle. */
export function bundleCode(bundle: string): lambda.Code {
  return lambda.Code.fromAsset(path.dirname(bundleFile(bundle)), { exclude: ['*.meta.json'] });
}

/**
 * Code of a stage handler: its prebuilt bundle plus, beside it, the stage's configuration and the
 * contract validators generated now, at synth time (so no schema is compiled in a cold start), and
 * the contracts themselves (`contracts.json`, read only by the local runner's stand-ins).
 * The folder is content-addressed, so the asset hash only changes when the code, config or schemas do.
 */
export function stageCode(bundle: string, config: object, schemas: { [name: string]: object }): lambda.Code {
  const index = fs.readFileSync(bundleFile(bundle));
  const configJson = JSON.stringify(config, null, 2);
  let validators: string;
  try {
    validators = generateValidators(schemas);
  } catch (err: any) {
    const stage = (config as { stage?: string }).stage ?? bundle;
    throw new Error(`stage ${stage}: its contracts cannot be compiled into validators: ${err?.message}. Fix the schema (a $ref must point inside the schema, a format must be a known one).`);
  }
  const contractsJson = JSON.stringify(schemas);
  const hash = createHash('sha256').update(index).update(configJson).update(validators).update(contractsJson).digest('hex').slice(0, 32);
  const dir = path.join(os.tmpdir(), 'cdk-ai-pipeline-assets', hash);
  if (!fs.existsSync(path.join(dir, 'index.js'))) {
    const staging = `${dir}.${process.pid}.tmp`;
    fs.mkdirSync(staging, { recursive: true });
    fs.writeFileSync(path.join(staging, StageAssetFiles.CONFIG), configJson);
    fs.writeFileSync(path.join(staging, StageAssetFiles.VALIDATORS), validators);
    fs.writeFileSync(path.join(staging, StageAssetFiles.CONTRACTS), contractsJson);
    fs.writeFileSync(path.join(staging, 'index.js'), index);
    try {
      fs.renameSync(staging, dir);
    } catch {
      // another process staged the same content first
      fs.rmSync(staging, { recursive: true, force: true });
    }
  }
  return lambda.Code.fromAsset(dir);
}
