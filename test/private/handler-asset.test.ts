import * as fs from 'fs';
import * as path from 'path';
import { Bundles, bundleCode, bundleFile, stageBundle, stageCode } from '../../src/private/handler-asset';
import { loadValidatorsSource } from '../../src/runtime/contracts';

const assetPath = (code: any): string => code.path;
const SCHEMAS = {
  input: { type: 'object', required: ['document'] },
  output: { type: 'object', required: ['label'], properties: { label: { type: 'string' } } },
};

describe('bundleFile / bundleCode', () => {
  test.each(Object.entries(Bundles))('the %s bundle exists', (_name, bundle) => {
    expect(fs.existsSync(bundleFile(bundle))).toBe(true);
    expect(bundleFile(bundle)).toMatch(new RegExp(`assets[\\\\/]${bundle.replace(/\//g, '[\\\\/]').replace(/\./g, '\\.')}[\\\\/]index\\.js$`));
  });

  test('a missing bundle fails with the fix', () => {
    expect(() => bundleFile('nope/handler/none.entry'))
      .toThrow(/^cdk-ai-pipeline: the handler bundle 'nope\/handler\/none\.entry' is missing at .*index\.js\. In a checkout of the library, run 'npx projen bundle'/);
  });

  test('bundleCode points at the bundle folder and excludes the metafile', () => {
    const code: any = bundleCode(Bundles.RECORDER);
    expect(assetPath(code)).toBe(path.dirname(bundleFile(Bundles.RECORDER)));
    expect(code.options.exclude).toEqual(['*.meta.json']);
  });
});

describe('stageCode', () => {
  const config = { stage: 'Classify', kind: 'sagemaker', request: { text: 'text' }, maxInputChars: 10 };

  test('stages index.js, stage-config.json, validators.js and contracts.json in one folder', () => {
    const dir = assetPath(stageCode(Bundles.SAGEMAKER, config, SCHEMAS));
    expect(fs.readdirSync(dir).sort()).toEqual(['contracts.json', 'index.js', 'stage-config.json', 'validators.js']);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'contracts.json'), 'utf8'))).toEqual(SCHEMAS);
    expect(fs.readFileSync(path.join(dir, 'index.js'))).toEqual(fs.readFileSync(bundleFile(Bundles.SAGEMAKER)));
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'stage-config.json'), 'utf8'))).toEqual(config);
    const v = loadValidatorsSource(fs.readFileSync(path.join(dir, 'validators.js'), 'utf8'));
    expect(v.output({ label: 'NDA' })).toBe(true);
    expect(v.output({ label: 3 })).toBe(false);
    expect(v.input({})).toBe(false);
  });

  test('content-addressed: same inputs, same folder; any change, another folder', () => {
    const dir = assetPath(stageCode(Bundles.SAGEMAKER, config, SCHEMAS));
    expect(path.basename(dir)).toMatch(/^[a-f0-9]{32}$/);
    expect(assetPath(stageCode(Bundles.SAGEMAKER, { ...config }, JSON.parse(JSON.stringify(SCHEMAS))))).toBe(dir);
    expect(assetPath(stageCode(Bundles.SAGEMAKER, { ...config, maxInputChars: 11 }, SCHEMAS))).not.toBe(dir);
    expect(assetPath(stageCode(Bundles.SAGEMAKER, config, { ...SCHEMAS, output: { type: 'object' } }))).not.toBe(dir);
    expect(assetPath(stageCode(Bundles.BEDROCK, config, SCHEMAS))).not.toBe(dir);
  });

  test('an already staged folder is reused as is', () => {
    const dir = assetPath(stageCode(Bundles.LAMBDA_PROXY, { stage: 'Reuse', kind: 'lambda' }, SCHEMAS));
    const before = fs.statSync(path.join(dir, 'validators.js')).mtimeMs;
    expect(assetPath(stageCode(Bundles.LAMBDA_PROXY, { stage: 'Reuse', kind: 'lambda' }, SCHEMAS))).toBe(dir);
    expect(fs.statSync(path.join(dir, 'validators.js')).mtimeMs).toBe(before);
    expect(fs.readdirSync(path.dirname(dir)).filter((f) => f.startsWith(`${path.basename(dir)}.`))).toEqual([]); // no staging leftovers
  });
});

test('stageBundle: the -quota bundle only for a stage given a quota, and only for kinds that have one (ADR-0034)', () => {
  expect(stageBundle(Bundles.BEDROCK, undefined)).toBe(Bundles.BEDROCK);
  expect(stageBundle(Bundles.BEDROCK, {})).toBe(Bundles.BEDROCK_QUOTA);
  expect(stageBundle(Bundles.TEXTRACT, {})).toBe(Bundles.TEXTRACT_QUOTA);
  expect(stageBundle(Bundles.SAGEMAKER, {})).toBe(Bundles.SAGEMAKER_QUOTA);
  expect(() => stageBundle(Bundles.COMPREHEND, {})).toThrow(/'stages\/comprehend\/handler\/comprehend.entry' has no variant with capacity control/);
});
