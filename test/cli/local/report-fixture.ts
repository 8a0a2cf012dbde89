/**
 * Documents for the run report's tests, shaped like the flagship's runs: the paths are real paths
 * through its definition (Extract → Classify → Summarize → Route → a route state → RecordRun, or
 * a Catch to RecordFailure → Failed), the outputs grow as each stage adds its result.
 */
import { ReportDocument } from '../../../src/cli/local/report';

export const XSS_NAME = '<img src=x onerror=alert(1)>.pdf';

interface Run {
  readonly name: string;
  readonly documentType: string;
  readonly riskScore: number;
  readonly route: 'legal' | 'auto-approve' | 'review';
}

function document(name: string) {
  return { bucket: 'contracts-documents', key: `incoming/${name}`, versionId: 'v1', size: 48213, etag: '9a0364b9e99bb480dd25e1f0284c8555' };
}

function outputs(run: Run) {
  const doc = document(run.name);
  const extract = { document: doc, results: { Extract: { textKey: `work/${run.name}/text.txt`, pages: 4, characters: 11873 } } };
  const classify = { ...extract, results: { ...extract.results, Classify: { documentType: run.documentType, confidence: 0.91 } } };
  const summarize = {
    ...classify,
    results: { ...classify.results, Summarize: { riskScore: run.riskScore, summaryKey: `work/${run.name}/Summarize/summary.txt` } },
  };
  return { extract, classify, summarize };
}

/** A run that reached a route. */
export function routedRun(run: Run): ReportDocument {
  const o = outputs(run);
  const routeState = run.route === 'legal' ? 'Route-high-risk' : run.route === 'auto-approve' ? 'Route-low-risk-nda' : 'Route-default';
  const rule = run.route === 'legal' ? 'high-risk' : run.route === 'auto-approve' ? 'low-risk-nda' : undefined;
  return {
    document: run.name,
    status: 'SUCCEEDED',
    route: run.route,
    rule,
    fields: { 'Classify.documentType': run.documentType, 'Summarize.riskScore': run.riskScore },
    path: [
      { state: 'Extract', ms: 38, output: o.extract },
      { state: 'Classify', ms: 12, output: o.classify },
      { state: 'Summarize', ms: 21, output: o.summarize },
      { state: 'Route', ms: 0, output: o.summarize },
      { state: routeState, ms: 1, output: { ...o.summarize, delivery: { MessageId: `local-${run.name}` } } },
      { state: 'RecordRun', ms: 4, output: { recorded: `audit/runs/${run.name}.json` } },
    ],
    transitions: 6,
    ms: 76,
    audit: [`buckets/audit/runs/2026/${run.name}.json`],
    result: `results/${run.name}.json`,
  };
}

/** A run whose Extract failed with a named error and was caught. */
export function quarantinedRun(name: string, error: string): ReportDocument {
  return {
    document: name,
    status: 'FAILED',
    route: 'quarantine',
    error: {
      name: error,
      message: `${name}: the document cannot be read (${error})`,
      stack: [
        `${error}: ${name}: the document cannot be read`,
        '    at readPdf (src/stages/textract/handler/pdf.ts:41:11)',
        '    at handleTextractEvent (src/stages/textract/handler/textract.ts:88:20)',
        '    at async Extract (src/cli/local/runner.ts:140:11)',
        '    at async runAll (src/cli/local/runner.ts:250:7)',
      ],
    },
    fields: {},
    path: [
      { state: 'Extract', ms: 5, error: `${error}: the document cannot be read` },
      { state: 'Extract-failed', ms: 0, output: { failedStage: 'Extract' } },
      { state: 'RecordFailure', ms: 3, output: { error: { Error: error, Cause: 'the document cannot be read' } } },
      { state: 'Failed', ms: 0 },
    ],
    transitions: 4,
    ms: 9,
    audit: [`buckets/audit/failures/${name}.json`],
  };
}

/** A file the trigger's filter skips. */
export function skippedRun(name: string): ReportDocument {
  return { document: name, status: 'SKIPPED', route: 'none', fields: {}, path: [], transitions: 0, ms: 0, audit: [] };
}

/** The flagship's sample set, the hostile name included. */
export function flagshipDocuments(): ReportDocument[] {
  return [
    routedRun({ name: 'msa-high-risk.pdf', documentType: 'MSA', riskScore: 0.86, route: 'legal' }),
    routedRun({ name: 'nda-short.pdf', documentType: 'NDA', riskScore: 0.12, route: 'auto-approve' }),
    routedRun({ name: 'sow.pdf', documentType: 'SOW', riskScore: 0.41, route: 'review' }),
    routedRun({ name: 'employment.pdf', documentType: 'EMPLOYMENT', riskScore: 0.35, route: 'review' }),
    routedRun({ name: XSS_NAME, documentType: 'NDA', riskScore: 0.2, route: 'auto-approve' }),
    quarantinedRun('corrupt.pdf', 'Document.Corrupt'),
    quarantinedRun('empty.pdf', 'Document.Empty'),
    skippedRun('notes.txt'),
  ];
}

/** A small handwritten definition with a Parallel (two branches) and a Map (an item processor). */
export const NESTED_DEFINITION = {
  StartAt: 'Split',
  States: {
    Split: { Type: 'Pass', Next: 'Fan' },
    Fan: {
      Type: 'Parallel',
      Branches: [
        { StartAt: 'OCR', States: { OCR: { Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:111111111111:function:Ocr', Next: 'Clean' }, Clean: { Type: 'Pass', End: true } } },
        { StartAt: 'Meta', States: { Meta: { Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:111111111111:function:Meta', End: true } } },
      ],
      Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Broken' }],
      Next: 'Pages',
    },
    Pages: {
      Type: 'Map',
      ItemsPath: '$.pages',
      ItemProcessor: {
        ProcessorConfig: { Mode: 'INLINE' },
        StartAt: 'Score',
        States: {
          Score: { Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:111111111111:function:Score', Next: 'Enough' },
          Enough: { Type: 'Choice', Choices: [{ Variable: '$.score', NumericGreaterThan: 0.5, Next: 'Flag' }], Default: 'Keep' },
          Flag: { Type: 'Pass', End: true },
          Keep: { Type: 'Succeed' },
        },
      },
      Next: 'Done',
    },
    Done: { Type: 'Succeed' },
    Broken: { Type: 'Fail', Error: 'Pages.Broken', Cause: 'a branch failed' },
  },
};
