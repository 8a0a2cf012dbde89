/**
 * Comprehend and Translate stages through the local runner and the real synthesized definition:
 * the dominant language detected from the extracted text (tinyld stand-in), a conditional Translate
 * for documents not in English, PII redacted into the text later stages read.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import {
  BedrockModel, ComprehendFeature, ConditionalStage, DocumentTrigger, InferenceStage, Pipeline, PromptTemplate,
  RouteDestination, RoutingPolicy, RoutingRule, RuleCondition, StageContract,
} from '../../../src';
import { runLocalCommand } from '../../../src/cli/local/command';
import { DocumentOutcome } from '../../../src/cli/local/runner';

const tmp = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), prefix));

const ENGLISH = [
  'Support ticket 7781. Our checkout page has been failing since this morning for every customer.',
  'Please call me back at 555-123-4567 or write to jane.doe@example.com as soon as possible.',
  'We need this fixed before the weekend sale starts on Friday.',
];
const GERMAN = [
  'Supportanfrage 7782. Unsere Kasse funktioniert seit heute Morgen für keinen Kunden mehr.',
  'Bitte rufen Sie mich zurück oder schreiben Sie mir so schnell wie möglich eine Nachricht.',
  'Wir brauchen eine Lösung, bevor der Wochenendverkauf am Freitag beginnt.',
];

function synth(): string {
  const outdir = tmp('lang-cdkout-');
  const app = new App({ outdir, context: { 'aws:cdk:enable-asset-metadata': true } });
  const stack = new Stack(app, 'Tickets', { env: { account: '111111111111', region: 'us-east-1' } });
  const trigger = DocumentTrigger.s3Upload(stack, 'Upload', { prefix: 'tickets/', suffixes: ['.pdf'] });
  const read = InferenceStage.textract(stack, 'Read');
  const language = InferenceStage.comprehend(stack, 'Language');
  const toEnglish = InferenceStage.translate(stack, 'ToEnglish', { targetLanguage: 'en', sourceLanguagePath: 'results.Language.language' });
  const pii = InferenceStage.comprehend(stack, 'Pii', { features: [ComprehendFeature.PII], languageCode: 'en', redactPii: true });
  const triage = InferenceStage.bedrock(stack, 'Triage', {
    model: BedrockModel.foundationModel('anthropic.claude-3-5-haiku-20241022-v1:0'),
    prompt: PromptTemplate.fromText('Triage this support ticket:\n<ticket>\n{{text}}\n</ticket>\nReply with JSON only.', { version: '1' }),
    output: StageContract.fromObject({ type: 'object', required: ['urgency'], properties: { urgency: { enum: ['low', 'high'] } } }),
  });
  const queue = (id: string) => new sqs.Queue(stack, id, { enforceSSL: true });
  new Pipeline(stack, 'Tickets', {
    trigger,
    stages: [
      read,
      language,
      new ConditionalStage(stack, 'IfNotEnglish', { stage: toEnglish, condition: RuleCondition.not(RuleCondition.stringEquals('Language.language', 'en')) }),
      pii,
      triage,
    ],
    routing: new RoutingPolicy(stack, 'Route', {
      rules: [RoutingRule.when('urgent', RuleCondition.stringEquals('Triage.urgency', 'high'), RouteDestination.sqsQueue('oncall', queue('Oncall')))],
      defaultRoute: RouteDestination.sqsQueue('queue', queue('Queue')),
    }),
  });
  app.synth();
  return outdir;
}

async function pdf(file: string, lines: string[]): Promise<void> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const page = doc.addPage();
  lines.forEach((line, i) => page.drawText(line, { x: 40, y: 740 - i * 18, size: 10, font }));
  fs.writeFileSync(file, await doc.save());
}

describe('language stages in the local runner', () => {
  let out: string;
  let outcomes: Map<string, DocumentOutcome>;

  beforeAll(async () => {
    const assembly = synth();
    const docs = tmp('lang-docs-');
    await pdf(path.join(docs, 'english.pdf'), ENGLISH);
    await pdf(path.join(docs, 'german.pdf'), GERMAN);
    out = tmp('lang-out-');
    const runs = await runLocalCommand({ documents: [docs], out, assembly, quiet: true, cwd: docs }, () => undefined);
    outcomes = new Map(runs.map((o) => [o.document, o]));
  }, 120_000);

  const read = (pointer: any) => JSON.parse(fs.readFileSync(path.join(out, 'buckets', pointer.bucket, pointer.key), 'utf8'));

  test('the dominant language is detected from the extracted text', () => {
    expect(outcomes.get('english.pdf')!.results.Language).toMatchObject({ language: 'en' });
    expect(outcomes.get('german.pdf')!.results.Language).toMatchObject({ language: 'de' });
  });

  test('only the document not in English takes the conditional Translate stage', () => {
    const german = outcomes.get('german.pdf')!;
    const english = outcomes.get('english.pdf')!;
    expect(german.path.map((s) => s.state)).toContain('ToEnglish');
    expect(german.results.ToEnglish).toMatchObject({ sourceLanguage: 'de', targetLanguage: 'en', translated: true });
    expect(english.path.map((s) => s.state)).not.toContain('ToEnglish');
    expect(english.results.ToEnglish).toBeUndefined();
    for (const o of [german, english]) expect(o.status).toBe('SUCCEEDED');
  });

  test('PII is redacted into the text the model stage reads', () => {
    const english = outcomes.get('english.pdf')!;
    expect(english.results.Pii).toMatchObject({ piiTypes: ['EMAIL', 'PHONE'], piiCount: 2 });
    const redacted = read((english.results.Pii as any).text).pages[0].text as string;
    expect(redacted).toContain('[EMAIL]');
    expect(redacted).toContain('[PHONE]');
    expect(redacted).not.toContain('jane.doe@example.com');
    expect(redacted).not.toContain('555-123-4567');
  });
});
