/**
 * The Textract handler bundle resolves pdf-lib to its parser alone (esbuild `--alias` arguments of
 * the bundle task, see .projenrc.ts). This builds the preflight with those same arguments and checks
 * that it counts pages and names encrypted and corrupt PDFs as the whole pdf-lib does, on PDFs from
 * real producers, and that the bundle no longer carries the standard fonts' metrics.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildSync } from 'esbuild';
import { PDFDocument } from 'pdf-lib';
import { makeCorruptPdf } from '../../../helpers/handler-test-kit';

const ROOT = path.join(__dirname, '../../../..');
const FIXTURES = path.join(ROOT, 'test/cli/local/adapters/fixtures/pdf');
const SAMPLES = path.join(ROOT, 'examples/legal-contracts/samples');

/** The `--alias:from=to` arguments of the Textract handler's bundle task. */
function bundleAliases(): { [from: string]: string } {
  const tasks = JSON.parse(fs.readFileSync(path.join(ROOT, '.projen/tasks.json'), 'utf8')).tasks;
  const args: string[] = tasks['bundle:stages/textract/handler/textract.entry'].steps[0].execArgs;
  const aliases: { [from: string]: string } = {};
  for (const arg of args) {
    const m = /^--alias:([^=]+)=(.+)$/.exec(arg);
    if (m) aliases[m[1]] = m[2].startsWith('.') ? path.join(ROOT, m[2]) : m[2];
  }
  return aliases;
}

let bundled: typeof import('../../../../src/stages/textract/handler/preflight');
let bundleInputs: string[];
let warn: jest.SpyInstance;

beforeAll(() => {
  warn = jest.spyOn(console, 'warn').mockImplementation(() => {});
  const outfile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'preflight-bundle-')), 'preflight.js');
  const result = buildSync({
    entryPoints: [path.join(ROOT, 'src/stages/textract/handler/preflight.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    metafile: true,
    alias: bundleAliases(),
    absWorkingDir: ROOT,
    logLevel: 'silent',
  });
  bundleInputs = Object.keys(result.metafile!.inputs);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  bundled = require(outfile);
});
afterAll(() => warn.mockRestore());

/** What the whole pdf-lib says: the page count, or the error name the preflight uses. */
async function pdfLibVerdict(bytes: Uint8Array): Promise<number | string> {
  try {
    const doc = await PDFDocument.load(bytes, { ignoreEncryption: true, updateMetadata: false });
    return doc.isEncrypted ? 'Document.Encrypted' : doc.getPageCount();
  } catch {
    return 'Document.Corrupt';
  }
}

async function bundledVerdict(bytes: Uint8Array): Promise<number | string> {
  try {
    return await bundled.countPdfPages(bytes);
  } catch (err: any) {
    return err.name;
  }
}

const pdfs = [
  ...fs.readdirSync(FIXTURES).map((f) => path.join(FIXTURES, f)),
  ...['nda-short.pdf', 'sow.pdf', 'encrypted.pdf', 'corrupt.pdf'].map((f) => path.join(SAMPLES, f)),
].filter((f) => f.endsWith('.pdf'));

test.each(pdfs.map((f) => [path.relative(ROOT, f), f]))('%s: same verdict as the whole pdf-lib', async (_name, file) => {
  const bytes = new Uint8Array(fs.readFileSync(file));
  expect(await bundledVerdict(bytes)).toEqual(await pdfLibVerdict(bytes));
});

test('a PDF whose objects cannot be parsed is Document.Corrupt', async () => {
  expect(await bundledVerdict(makeCorruptPdf())).toBe('Document.Corrupt');
});

test('the bundle carries pdf-lib\'s ES parser, not its CommonJS build nor the standard fonts\' metrics', () => {
  expect(bundleInputs.some((f) => f.includes('node_modules/pdf-lib/es/core/parser/'))).toBe(true);
  expect(bundleInputs.filter((f) => f.includes('node_modules/pdf-lib/cjs/'))).toEqual([]);
  expect(bundleInputs.filter((f) => f.includes('node_modules/@pdf-lib/standard-fonts/'))).toEqual([]);
});
