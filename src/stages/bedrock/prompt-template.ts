import * as fs from 'fs';
import { templateVariables } from '../../shared/paths';

/** Options of a prompt template. */
export interface PromptTemplateOptions {
  /** The template's version, written in every audit record (e.g. '3'). */
  readonly version: string;
  /**
   * The system prompt sent with the template.
   * @default - none
   */
  readonly systemPrompt?: string;
}

const VERSION = /^[A-Za-z0-9._-]{1,32}$/;
const ROOTS = ['text', 'document', 'results'];

/**
 * A versioned prompt. `{{path}}` placeholders read the stage's view of the run: `{{text}}` (the text
 * of the latest earlier stage that produced a `text` pointer), `{{document.key}}`,
 * `{{results.Classify.documentType}}`. S3 pointers are replaced by the content they point at.
 */
export class PromptTemplate {
  /** A template from text. */
  public static fromText(text: string, options: PromptTemplateOptions): PromptTemplate {
    return new PromptTemplate(text, options, 'PromptTemplate.fromText');
  }

  /** A template from a UTF-8 text file. */
  public static fromFile(file: string, options: PromptTemplateOptions): PromptTemplate {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err: any) {
      throw new Error(`PromptTemplate.fromFile: cannot read the prompt file '${file}' (${err?.code ?? err}). Pass the path of an existing text file.`);
    }
    return new PromptTemplate(text, options, `PromptTemplate.fromFile('${file}')`);
  }

  /** The template text. */
  public readonly text: string;
  /** The template's version. */
  public readonly version: string;
  /** The system prompt, if any. */
  public readonly systemPrompt?: string;
  /** The placeholders the template reads, in order of first use. */
  public readonly variables: string[];

  private constructor(text: string, options: PromptTemplateOptions, source: string) {
    if (text.trim().length === 0) {
      throw new Error(`${source}: the prompt is empty. Write the instructions, with placeholders such as {{text}}.`);
    }
    if (Buffer.byteLength(text) > 100 * 1024) {
      throw new Error(`${source}: the prompt is ${Buffer.byteLength(text)} bytes, over the 102400-byte limit. Shorten it; documents are inserted through placeholders at run time.`);
    }
    if (!VERSION.test(options.version ?? '')) {
      throw new Error(`${source}: \`version\` must be 1-32 letters, digits, '.', '_' or '-', got: '${options.version}'. Set a version such as '3'.`);
    }
    const variables = templateVariables(text);
    const bad = variables.filter((v) => !ROOTS.includes(v.split('.')[0]) || v === 'document' || v === 'results' || v.startsWith('text.'));
    if (bad.length > 0) {
      throw new Error(`${source}: the placeholders ${bad.map((b) => `{{${b}}}`).join(', ')} read nothing a stage can see. Use {{text}}, {{document.<field>}} or {{results.<Stage>.<field>}}.`);
    }
    this.text = text;
    this.version = options.version;
    this.systemPrompt = options.systemPrompt;
    this.variables = variables;
  }
}
