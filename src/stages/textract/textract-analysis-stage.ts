import { Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { TextractStageProps } from './textract-stage';
import { cloneSchema, DOCUMENT_INPUT_SCHEMA, textractAnalysisOutputSchema } from '../../contracts/schemas';
import { StageContract } from '../../contracts/stage-contract';
import { grantTaskResponsePolicy, textractLimits, textractStageBaseProps, wireTextractJobs } from '../../private/textract-jobs';
import { invalid, whereOf } from '../../private/validation';
import { TextractFeatureName, TextractStageConfig } from '../../shared';
import { InferenceStageBase } from '../inference-stage-base';

/** What a Textract analysis looks for (the API's feature types). */
export enum TextractFeature {
  /** Key-value pairs of forms (`keyValues`). */
  FORMS = 'FORMS',
  /** Tables, cell by cell (in `analysis.json`; `tableCount` inline). */
  TABLES = 'TABLES',
  /** Answers to the stage's `queries` (`queryAnswers`, by alias). */
  QUERIES = 'QUERIES',
  /** Signatures (`signatureCount` inline, each one with its page in `analysis.json`). */
  SIGNATURES = 'SIGNATURES',
}

/** A question Textract answers from the document. */
export interface TextractQuery {
  /**
   * The question, in Textract's character set (letters, digits, spaces, ASCII punctuation), at most 200 characters.
   */
  readonly text: string;
  /**
   * The name the answer is kept under: `queryAnswers.<alias>` in the stage's output, the path routing
   * rules read (`Stage.queryAnswers.<alias>.text`). A letter, then letters, digits or `_`, at most 64.
   */
  readonly alias: string;
  /**
   * The pages the query applies to: `'1'`, `'2-4'`, `'3-*'`, or `'*'` (every page, alone in the list).
   * Selectors past a document's last page are dropped or cut to it before the call.
   * @default ['1'] (Textract's default: the first page)
   */
  readonly pages?: string[];
}

/** Props of a Textract analysis stage. */
export interface TextractAnalysisStageProps extends TextractStageProps {
  /**
   * What to look for. QUERIES needs `queries`; `queries` needs QUERIES.
   * @default - FORMS and TABLES, and QUERIES when `queries` is given
   */
  readonly features?: TextractFeature[];
  /**
   * The questions Textract answers (the QUERIES feature). At most 30, and at most 15 that apply to
   * page 1 (single-page documents are analyzed synchronously, where Textract takes 15 queries a page).
   * @default - no queries
   */
  readonly queries?: TextractQuery[];
}

/** Textract's character set for a query's text. */
const QUERY_TEXT = /^[a-zA-Z0-9\s!"#$%'&()*+,\-./:;=?@[\\\]^_`{|}~><]+$/;
/** Aliases become property names that routing paths read: the same shape as stage ids. */
const ALIAS = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
/** One page selector: `n`, `n-m`, `n-*`, or `*`. */
const PAGE = /^(\*|[1-9][0-9]{0,3}(-([1-9][0-9]{0,3}|\*))?)$/;
/** Textract's query limits per page: synchronous (AnalyzeDocument) and asynchronous (StartDocumentAnalysis). */
const SYNC_QUERIES_PER_PAGE = 15;
const ASYNC_QUERIES_PER_PAGE = 30;

/**
 * Document analysis with Amazon Textract (AnalyzeDocument): forms, tables, queries and signatures,
 * as one state. The same preflight as `TextractStage`; single-page documents are analyzed
 * synchronously, multi-page ones by an asynchronous job (StartDocumentAnalysis) whose completion
 * (SNS) resumes the run through the task token. Output: the text pointer (like `TextractStage`, so
 * stages reading `text` work after it), the whole analysis by pointer, and inline the first key-value
 * pairs, the counts and every query's best answer by alias, for routing rules.
 */
export class TextractAnalysisStage extends InferenceStageBase {
  /** The topic Textract announces job completion on (encrypted, SSL only). */
  public readonly completionTopic: sns.Topic;
  /** The role Textract assumes to publish job completion. */
  public readonly textractServiceRole: iam.Role;
  /** The features the stage asks for. */
  public readonly features: TextractFeature[];

  constructor(scope: Construct, id: string, props: TextractAnalysisStageProps = {}) {
    const where = whereOf('TextractAnalysisStage', scope, id);
    const limits = textractLimits(where, props);
    const queries = props.queries ?? [];
    const features = props.features ?? [TextractFeature.FORMS, TextractFeature.TABLES, ...(queries.length > 0 ? [TextractFeature.QUERIES] : [])];
    checkFeatures(where, features, queries);
    checkQueries(where, queries);
    const config: TextractStageConfig = {
      stage: id,
      kind: 'textract',
      ...limits,
      analysis: {
        features: features.map((f) => f as string as TextractFeatureName),
        queries: queries.map((q) => ({ text: q.text, alias: q.alias, ...(q.pages ? { pages: [...q.pages] } : {}) })),
      },
    };
    const input = props.input ?? StageContract.fromObject(cloneSchema(DOCUMENT_INPUT_SCHEMA));
    const output = StageContract.fromObject(textractAnalysisOutputSchema(queries.map((q) => q.alias), features.includes(TextractFeature.SIGNATURES)));
    super(scope, id, textractStageBaseProps(config, { input, output }, props, 'preflight, then Textract document analysis (sync or async job)'));
    this.features = [...features];
    const jobs = wireTextractJobs(this, {
      id,
      handler: this.handler,
      role: this.role,
      actions: ['textract:AnalyzeDocument', 'textract:StartDocumentAnalysis', 'textract:GetDocumentAnalysis'],
      wildcardReason: 'Textract document-analysis actions do not support resource-level permissions; the role grants only the three it calls.',
      setEnvironment: (key, value) => this.addHandlerEnvironment(key, value),
    });
    this.completionTopic = jobs.completionTopic;
    this.textractServiceRole = jobs.textractServiceRole;
  }

  /**
   * Grants SendTaskSuccess/SendTaskFailure on the state machine: the handler resumes the run with them.
   * A policy of its own per state machine, so the state machine (which references the handler) does
   * not depend on the handler's default policy.
   * @param stateMachine the state machine that runs this stage
   */
  public grantTaskResponse(stateMachine: sfn.IStateMachine): iam.Grant {
    return grantTaskResponsePolicy(this, this.role, stateMachine);
  }
}

function checkFeatures(where: string, features: readonly TextractFeature[], queries: readonly TextractQuery[]): void {
  if (features.length === 0) {
    invalid(where, '`features` must name at least one feature, got: []. Leave it out for FORMS and TABLES.');
  }
  const seen = new Set<string>();
  for (const f of features) {
    if (seen.has(f)) invalid(where, `\`features\` names ${f} twice. Name each feature once.`);
    seen.add(f);
  }
  if (features.includes(TextractFeature.QUERIES) && queries.length === 0) {
    invalid(where, '`features` has QUERIES but `queries` is empty. Give at least one query, or drop QUERIES.');
  }
  if (!features.includes(TextractFeature.QUERIES) && queries.length > 0) {
    invalid(where, `\`queries\` has ${queries.length} queries but \`features\` has no QUERIES (got: ${features.join(', ')}). Add TextractFeature.QUERIES to \`features\`.`);
  }
}

function checkQueries(where: string, queries: readonly TextractQuery[]): void {
  if (queries.length > ASYNC_QUERIES_PER_PAGE) {
    invalid(where, `\`queries\` may have at most ${ASYNC_QUERIES_PER_PAGE} queries (Textract's limit per page), got: ${queries.length}.`);
  }
  const aliases = new Set<string>();
  let onFirstPage = 0;
  queries.forEach((q, i) => {
    const name = `\`queries[${i}]\``;
    if (Token.isUnresolved(q.text) || Token.isUnresolved(q.alias)) {
      invalid(where, `${name} must be plain text: its text and alias are part of the stage's configuration and output contract, got a token.`);
    }
    if (q.text.length < 1 || q.text.length > 200 || !QUERY_TEXT.test(q.text)) {
      invalid(where, `${name}.text must be 1 to 200 characters of letters, digits, spaces and ASCII punctuation (Textract's limit), got: ${JSON.stringify(q.text)}.`);
    }
    if (!ALIAS.test(q.alias)) {
      invalid(where, `${name}.alias must be a letter followed by letters, digits or _, at most 64 characters (routing rules read \`queryAnswers.<alias>\`), got: ${JSON.stringify(q.alias)}.`);
    }
    if (aliases.has(q.alias)) invalid(where, `${name}.alias '${q.alias}' is used by an earlier query. Give each query its own alias.`);
    aliases.add(q.alias);
    const pages = q.pages ?? ['1'];
    if (pages.length === 0) invalid(where, `${name}.pages must have at least one page selector, got: []. Leave it out for page 1.`);
    for (const p of pages) {
      if (!PAGE.test(p)) invalid(where, `${name}.pages has ${JSON.stringify(p)}: each selector must be a page ('2'), a range ('2-4', '3-*') or '*'.`);
      const [from, to] = p.split('-');
      if (to !== undefined && to !== '*' && Number(to) < Number(from)) invalid(where, `${name}.pages has the range '${p}', which ends before it starts.`);
    }
    if (pages.includes('*') && pages.length > 1) invalid(where, `${name}.pages has '*' with other selectors (${pages.join(', ')}): '*' must be alone.`);
    if (pages.some((p) => p === '*' || p === '1' || p.startsWith('1-'))) onFirstPage++;
  });
  if (onFirstPage > SYNC_QUERIES_PER_PAGE) {
    invalid(where, `${onFirstPage} queries apply to page 1, over Textract's ${SYNC_QUERIES_PER_PAGE} per page for single-page documents (analyzed synchronously). Move some to later pages or drop them.`);
  }
}
