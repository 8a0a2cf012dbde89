/**
 * A pipeline with the S3 and OpenSearch outputs, run by the local runner on its real synthesized
 * definition: the result document lands in the local results bucket, the index on disk, and the run
 * report links to both.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { DocumentTrigger, EmbeddingModel, InferenceStage, Pipeline, ResultOutput } from '../../../src';
import { runLocalCommand } from '../../../src/cli/local/command';
import { DocumentOutcome } from '../../../src/cli/local/runner';
import { classificationContract } from '../../helpers/pipeline-fixture';

const tmp = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), prefix));

async function pdf(text: string): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  doc.addPage([612, 792]).drawText(text, { x: 56, y: 740, size: 11, font });
  return doc.save();
}

describe('outputs through the local runner', () => {
  let outcome: DocumentOutcome;
  let out: string;
  beforeAll(async () => {
    const outdir = tmp('outputs-cdkout-');
    const app = new App({ outdir, context: { 'aws:cdk:enable-asset-metadata': true }, builtinCloudFormationValidation: false });
    const s = new Stack(app, 'Outputs', { env: { account: '111111111111', region: 'us-east-1' } });
    const trigger = DocumentTrigger.s3Upload(s, 'Upload', { prefix: 'incoming/', suffixes: ['.pdf'] });
    const extract = InferenceStage.textract(s, 'Extract');
    const classify = InferenceStage.sagemakerEndpoint(s, 'Classify', { endpointName: 'classifier', output: classificationContract() });
    new Pipeline(s, 'Docs', {
      trigger,
      stages: [extract, classify],
      outputs: [
        ResultOutput.s3(s, 'Results'),
        ResultOutput.openSearch(s, 'Index', {
          indexName: 'documents',
          fields: ['Classify.documentType', 'Classify.confidence', 'Extract.pages'],
          embedding: { model: EmbeddingModel.titanTextV2(256), textFrom: 'Extract' },
        }),
      ],
    });
    app.synth();
    const docs = tmp('outputs-docs-');
    fs.writeFileSync(path.join(docs, 'services.pdf'), await pdf('Services agreement between two parties.'));
    out = tmp('outputs-out-');
    const list = await runLocalCommand({ documents: [docs], out, assembly: outdir, quiet: true, cwd: docs }, () => undefined);
    outcome = list[0];
  }, 180_000);

  test('the run succeeds through both outputs, then the run record', () => {
    expect(outcome.status).toBe('SUCCEEDED');
    const states = outcome.path.map((p) => p.state);
    expect(states.slice(-3)).toEqual(['Results', 'Index', 'RecordRun']);
  });

  test('the S3 output wrote the result document into the local results bucket', () => {
    const file = path.join(out, outcome.outputs!.Results);
    const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
    expect(outcome.outputs!.Results).toMatch(/^buckets\/[^/]+\/results\/Docs\/[0-9a-f]{64}\.json$/);
    expect(doc).toEqual(expect.objectContaining({ schemaVersion: '1', pipeline: 'Docs', route: null }));
    expect(doc.document.key).toBe('incoming/services.pdf');
    expect(doc.results.Classify.documentType).toEqual(expect.any(String));
    expect(doc.audit.run.key).toBe(`runs/${doc.runId}.json`);
  });

  test('the OpenSearch output wrote an on-disk index with the contract-derived mapping and the embedding', () => {
    expect(outcome.outputs!.Index).toBe(path.join('index', 'documents.jsonl'));
    const lines = fs.readFileSync(path.join(out, 'index', 'documents.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(1);
    const source = lines[0]._source;
    expect(source.results.Classify).toEqual({ documentType: expect.any(String), confidence: expect.any(Number) });
    expect(source.results.Extract).toEqual({ pages: 1 });
    expect(source.embedding).toHaveLength(256);
    expect(Math.hypot(...source.embedding)).toBeCloseTo(1, 6);
    const mapping = JSON.parse(fs.readFileSync(path.join(out, 'index', 'documents.mapping.json'), 'utf8'));
    expect(mapping.mappings.properties.results.properties).toEqual({
      Classify: { properties: { documentType: { type: 'keyword' }, confidence: { type: 'double' } } },
      Extract: { properties: { pages: { type: 'long' } } },
    });
    expect(mapping.mappings.properties.embedding.dimension).toBe(256);
  });

  test('the run report and summary link to what the outputs wrote', () => {
    const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
    expect(html).toContain('index/documents.jsonl');
    const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
    expect(summary[0].outputs).toEqual(outcome.outputs);
  });
});
