import * as fs from 'fs';
import * as path from 'path';
import { Bundles, bundleFile } from '../../src/private/handler-asset';

/** The source files esbuild put in a handler bundle (its metafile, written beside the bundle). */
function bundledInputs(bundle: string): string[] {
  const meta = JSON.parse(fs.readFileSync(path.join(path.dirname(bundleFile(bundle)), 'index.meta.json'), 'utf8'));
  return Object.keys((Object.values(meta.outputs)[0] as { inputs: object }).inputs);
}

describe('handler bundles (docs/benchmarks.md, "Cold starts")', () => {
  test.each(Object.entries(Bundles))('%s is built from the AWS SDK\'s ES modules, so unused commands are dropped', (_, bundle) => {
    const sdkCode = bundledInputs(bundle).filter((f) => /node_modules\/@aws-sdk\/client-[^/]+\/dist-/.test(f));
    expect(sdkCode.length).toBeGreaterThan(0);
    expect(sdkCode.filter((f) => !f.includes('/dist-es/'))).toEqual([]);
  });

  test.each([Bundles.TEXTRACT_QUOTA, Bundles.BEDROCK_QUOTA, Bundles.SAGEMAKER_QUOTA])('%s (a stage given a quota) carries only the DynamoDB commands of the quota store', (bundle) => {
    const commands = bundledInputs(bundle)
      .map((f) => /client-dynamodb\/dist-es\/commands\/(\w+)Command\.js$/.exec(f)?.[1])
      .filter((c) => c !== undefined)
      .sort();
    // DescribeEndpoints: the client's endpoint discovery, which the client itself imports.
    expect(commands).toEqual(['DescribeEndpoints', 'GetItem', 'UpdateItem']);
    expect(bundledInputs(bundle)).toContain('src/runtime/dynamo-capacity.ts');
  });

  test.each(Object.entries(Bundles).filter(([name, bundle]) => (bundle.startsWith('stages/') || name === 'CHUNKS') && !name.endsWith('_QUOTA')))(
    '%s (a stage without a quota) carries no DynamoDB client (ADR-0034)', (_, bundle) => {
      const inputs = bundledInputs(bundle);
      expect(inputs.filter((f) => /client-dynamodb|dynamo-capacity|dynamo-quota-store/.test(f))).toEqual([]);
      expect(inputs).toContain('src/runtime/environment.ts');
    });

  test('no handler bundles the Powertools logger (ADR-0034), nor fast-uri (validators never require ajv\'s uri helper)', () => {
    for (const bundle of Object.values(Bundles)) {
      expect(bundledInputs(bundle).filter((f) => /@aws-lambda-powertools|fast-uri/.test(f))).toEqual([]);
    }
  });

  test('the Textract handler reads PDFs with its own reader: no pdf-lib in its bundle (ADR-0033)', () => {
    const inputs = bundledInputs(Bundles.TEXTRACT);
    expect(inputs).toContain('src/stages/textract/handler/pdf-reader.ts');
    expect(inputs.filter((f) => /node_modules\/(pdf-lib|@pdf-lib|pako)\//.test(f))).toEqual([]);
  });

  test('the trigger starter carries only the run-claim commands', () => {
    const commands = bundledInputs(Bundles.STARTER)
      .map((f) => /client-dynamodb\/dist-es\/commands\/(\w+)Command\.js$/.exec(f)?.[1])
      .filter((c) => c !== undefined)
      .sort();
    // No GetItem: only the API trigger reads a claim (GET /runs/{id}).
    expect(commands).toEqual(['DeleteItem', 'DescribeEndpoints', 'PutItem', 'UpdateItem']);
  });
});
