import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { POINTER_SCHEMA } from '../../src/contracts/schemas';
import { StageContract } from '../../src/contracts/stage-contract';
import { checkSatisfies } from '../../src/private/contract-check';
import { loadValidatorsSource } from '../../src/runtime/contracts';
import { BedrockModel } from '../../src/stages/bedrock/bedrock-model';
import { BedrockStage, BedrockStageProps, PromptAttackStrength, ScreeningMode } from '../../src/stages/bedrock/bedrock-stage';
import { PromptTemplate } from '../../src/stages/bedrock/prompt-template';
import { InferenceStage, StageKind } from '../../src/stages/inference-stage';
import {
  attachStage, newAttachment, newStack, roleStatements, stageAssetDir, stateMachineOf, statementsWith,
} from '../helpers/construct-test-kit';

const MODEL_ID = 'anthropic.claude-3-5-haiku-20241022-v1:0';
const SUMMARY = {
  type: 'object',
  required: ['summary', 'riskScore'],
  properties: {
    summary: { type: 'string' },
    riskScore: { type: 'number', minimum: 0, maximum: 1 },
    riskClauses: { type: 'array', items: { type: 'object', properties: { type: { type: 'string' }, page: { type: 'integer' } } } },
  },
};
const partitionArn = (rest: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, rest]] });

function bedrock(stack: Stack, extra: Partial<BedrockStageProps> = {}, id = 'Summarize'): BedrockStage {
  return InferenceStage.bedrock(stack, id, {
    model: BedrockModel.foundationModel(MODEL_ID),
    prompt: PromptTemplate.fromText('Summarize the contract: {{text}}', { version: '3', systemPrompt: 'You are a lawyer.' }),
    output: StageContract.fromObject(SUMMARY),
    ...extra,
  });
}

function invokeModelResources(stage: BedrockStage): any[] {
  const stack = Stack.of(stage);
  attachStage(stage, newAttachment(stack));
  const [statement] = statementsWith(roleStatements(Template.fromStack(stack), stage.role), 'bedrock:InvokeModel');
  return Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
}

describe('BedrockStage with a foundation model', () => {
  let stack: Stack;
  let stage: BedrockStage;
  let template: Template;
  let asl: any;

  beforeAll(() => {
    stack = newStack({ withEnv: true });
    stage = bedrock(stack, { guardrail: { guardrailId: 'gr-abc123', guardrailVersion: '2' }, maxTokens: 1000, temperature: 0.2, maxInputChars: 5000 });
    attachStage(stage, newAttachment(stack));
    asl = stateMachineOf(stage).asl;
    template = Template.fromStack(stack);
  });

  test('kind, model and prompt version', () => {
    expect(stage).toBeInstanceOf(BedrockStage);
    expect(stage.kind).toBe(StageKind.BEDROCK);
    expect(stage.model.modelId).toBe(MODEL_ID);
    expect(stage.promptVersion).toBe('3');
    expect(stage.readsText).toBe(true);
  });

  test('InvokeModel on exactly the foundation model ARN of the stack region', () => {
    expect(statementsWith(roleStatements(template, stage.role), 'bedrock:InvokeModel')).toEqual([{
      Action: 'bedrock:InvokeModel',
      Effect: 'Allow',
      Resource: partitionArn(`:bedrock:us-east-1::foundation-model/${MODEL_ID}`),
    }]);
  });

  test('ApplyGuardrail on exactly the Converse guardrail ARN and the prompt-attack guardrail the stage created', () => {
    const [guardrailId] = Object.keys(template.findResources('AWS::Bedrock::Guardrail'));
    expect(statementsWith(roleStatements(template, stage.role), 'bedrock:ApplyGuardrail')).toEqual([{
      Action: 'bedrock:ApplyGuardrail',
      Effect: 'Allow',
      Resource: [
        partitionArn(':bedrock:us-east-1:123456789012:guardrail/gr-abc123'),
        { 'Fn::GetAtt': [guardrailId, 'GuardrailArn'] },
      ],
    }]);
  });

  test('a guardrail with only the prompt-attack filter (input HIGH) screens the untrusted text by default', () => {
    template.resourceCountIs('AWS::Bedrock::Guardrail', 1);
    template.hasResourceProperties('AWS::Bedrock::Guardrail', {
      ContentPolicyConfig: { FiltersConfig: [{ Type: 'PROMPT_ATTACK', InputStrength: 'HIGH', OutputStrength: 'NONE' }] },
    });
    const [guardrailId] = Object.keys(template.findResources('AWS::Bedrock::Guardrail'));
    expect(stage.promptAttackGuardrail).toBeDefined();
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: {
          PROMPT_ATTACK_GUARDRAIL_ID: { 'Fn::GetAtt': [guardrailId, 'GuardrailId'] },
          PROMPT_ATTACK_GUARDRAIL_VERSION: 'DRAFT',
        },
      },
    });
  });

  test('no other Bedrock action (no Converse stream, no wildcard)', () => {
    const actions = roleStatements(template, stage.role).flatMap((s) => [s.Action].flat());
    expect(actions.filter((a: string) => a.startsWith('bedrock:')).sort()).toEqual(['bedrock:ApplyGuardrail', 'bedrock:InvokeModel']);
  });

  test('retries the Bedrock throttling and transient errors', () => {
    expect(asl.States.Summarize.Retry[0].ErrorEquals).toEqual(expect.arrayContaining([
      'ThrottlingException', 'ModelTimeoutException', 'ServiceUnavailableException', 'ModelNotReadyException',
    ]));
    expect(asl.States.Summarize.Retry[0].ErrorEquals).not.toContain('Model.InvalidOutput');
  });

  test('the handler config carries the prompt, its version and the model settings', () => {
    const config = JSON.parse(fs.readFileSync(path.join(stageAssetDir(stage), 'stage-config.json'), 'utf8'));
    expect(config).toEqual({
      stage: 'Summarize',
      kind: 'bedrock',
      modelId: MODEL_ID,
      prompt: 'Summarize the contract: {{text}}',
      promptVersion: '3',
      systemPrompt: 'You are a lawyer.',
      maxTokens: 1000,
      temperature: 0.2,
      offloadFields: [],
      maxInputChars: 5000,
      guardrail: { id: 'gr-abc123', version: '2' },
      screening: {
        normalization: 'enforce',
        phrases: 'enforce',
        structure: 'enforce',
        guardrail: 'enforce',
        spotlight: 'enforce',
        delimiterTags: [],
        outputFields: ['summary', 'riskScore', 'riskClauses'],
      },
      // Claude 3.5 Haiku: prompt caching (the system prompt is cached), no JSON-schema structured output
      promptCache: true,
      price: { inputPer1k: 0.0008, outputPer1k: 0.004, cacheReadPer1k: 0.00008, cacheWritePer1k: 0.001, source: expect.stringMatching(/^built-in table: Amazon Bedrock on-demand list prices/) },
    });
  });

  test('the function description names the model and prompt version', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: `cdk-ai-pipeline bedrock stage Summarize: Bedrock Converse with ${MODEL_ID}, prompt v3`,
    });
  });

  test('output contract = the reply contract + response, screening and usage (required)', () => {
    const out = stage.outputContract.schema;
    expect(out.required).toEqual(['summary', 'riskScore', 'response', 'screening', 'usage']);
    expect(out.properties.summary).toEqual({ type: 'string' });
    expect(out.properties.riskScore).toEqual(SUMMARY.properties.riskScore);
    expect(out.properties.response).toEqual(POINTER_SCHEMA);
    expect(out.properties.screening).toEqual({
      type: 'object',
      required: ['promptInjection', 'patterns', 'injectionSuspected', 'layers'],
      properties: {
        promptInjection: { type: 'boolean' },
        patterns: { type: 'array', items: { type: 'string' } },
        injectionSuspected: { type: 'boolean' },
        layers: {
          type: 'object',
          required: ['normalization', 'phrases', 'structure', 'guardrail', 'spotlight'],
          properties: {
            normalization: { type: 'boolean' },
            phrases: { type: 'boolean' },
            structure: { type: 'boolean' },
            guardrail: { type: 'boolean' },
            spotlight: { type: 'boolean' },
          },
          additionalProperties: false,
        },
      },
    });
    expect(out.properties.usage.required).toEqual(['inputTokens', 'outputTokens']);
  });

  test('the user contract object is not mutated', () => {
    expect(SUMMARY.required).toEqual(['summary', 'riskScore']);
    expect(Object.keys(SUMMARY.properties)).toEqual(['summary', 'riskScore', 'riskClauses']);
  });

  test('validators: model (raw reply), output (with added fields) and input', () => {
    const v = loadValidatorsSource(fs.readFileSync(path.join(stageAssetDir(stage), 'validators.js'), 'utf8'));
    expect(v.model).toBeDefined();
    const reply = { summary: 'A short summary.', riskScore: 0.4 };
    expect(v.model!(reply)).toBe(true);
    expect(v.model!({ summary: 'x', riskScore: 2 })).toBe(false);
    expect(v.model!({ riskScore: 0.1 })).toBe(false);
    expect(v.output(reply)).toBe(false); // response, screening, usage missing
    const full = {
      ...reply,
      response: { bucket: 'work-bucket', key: 'stages/Summarize/run/response.json' },
      screening: {
        promptInjection: false,
        patterns: [],
        injectionSuspected: false,
        layers: { normalization: false, phrases: false, structure: false, guardrail: false, spotlight: false },
      },
      usage: { inputTokens: 10, outputTokens: 5 },
    };
    expect(v.output(full)).toBe(true);
    expect(v.output({ ...full, screening: { ...full.screening, layers: { phrases: false } } })).toBe(false); // an enforced layer missing
    expect(v.output({ ...full, usage: { inputTokens: 1.5, outputTokens: 5 } })).toBe(false);
    expect(v.input({ document: { bucket: 'docs-bucket', key: 'incoming/a.pdf' }, results: {} })).toBe(true);
  });
});

describe('BedrockModel.inferenceProfile', () => {
  test("'us.' profile: the profile ARN plus the model in us-east-1, us-east-2 and us-west-2", () => {
    const stage = bedrock(newStack({ withEnv: true }), { model: BedrockModel.inferenceProfile(`us.${MODEL_ID}`) });
    expect(stage.model.modelId).toBe(`us.${MODEL_ID}`);
    expect(invokeModelResources(stage)).toEqual([
      partitionArn(`:bedrock:us-east-1:123456789012:inference-profile/us.${MODEL_ID}`),
      partitionArn(`:bedrock:us-east-1::foundation-model/${MODEL_ID}`),
      partitionArn(`:bedrock:us-east-2::foundation-model/${MODEL_ID}`),
      partitionArn(`:bedrock:us-west-2::foundation-model/${MODEL_ID}`),
    ]);
  });

  test('explicit regions replace the default ones', () => {
    const stage = bedrock(newStack({ withEnv: true }), { model: BedrockModel.inferenceProfile(`eu.${MODEL_ID}`, { regions: ['eu-west-1', 'eu-central-1'] }) });
    expect(invokeModelResources(stage)).toEqual([
      partitionArn(`:bedrock:us-east-1:123456789012:inference-profile/eu.${MODEL_ID}`),
      partitionArn(`:bedrock:eu-west-1::foundation-model/${MODEL_ID}`),
      partitionArn(`:bedrock:eu-central-1::foundation-model/${MODEL_ID}`),
    ]);
  });

  test("'global.' profile: the model's region-less ARN", () => {
    const stage = bedrock(newStack({ withEnv: true }), { model: BedrockModel.inferenceProfile(`global.${MODEL_ID}`) });
    expect(invokeModelResources(stage)).toEqual([
      partitionArn(`:bedrock:us-east-1:123456789012:inference-profile/global.${MODEL_ID}`),
      partitionArn(`:bedrock:::foundation-model/${MODEL_ID}`),
    ]);
  });

  test("'apac.' profile: five default regions", () => {
    const arns = BedrockModel.inferenceProfile(`apac.${MODEL_ID}`).resourceArns(newStack({ withEnv: true }));
    expect(arns).toHaveLength(6);
    expect(arns.slice(1).map((a) => a.split(':')[3])).toEqual(['ap-northeast-1', 'ap-northeast-2', 'ap-south-1', 'ap-southeast-1', 'ap-southeast-2']);
  });

  test('a prefix without default regions needs `regions`', () => {
    expect(() => BedrockModel.inferenceProfile(MODEL_ID))
      .toThrow(/BedrockModel.inferenceProfile: no default regions for the profile prefix 'anthropic' in 'anthropic\.claude-3-5-haiku-20241022-v1:0'\. Pass `regions`/);
    expect(() => BedrockModel.inferenceProfile(`xx.${MODEL_ID}`, { regions: [] }))
      .toThrow(/no default regions for the profile prefix 'xx'/);
    expect(BedrockModel.inferenceProfile(`xx.${MODEL_ID}`, { regions: ['us-east-1'] }).modelId).toBe(`xx.${MODEL_ID}`);
  });
});

describe('BedrockModel ids', () => {
  test.each(['', 'claude', 'Anthropic.claude', 'arn:aws:bedrock:us-east-1::foundation-model/x.y', 'anthropic.claude v1'])(
    'foundationModel rejects %p', (id) => {
      expect(() => BedrockModel.foundationModel(id))
        .toThrow(new RegExp('^BedrockModel\\.foundationModel: \'.*\' is not a Bedrock model or profile id \\(provider\\.model\\[:version\\]'));
    });

  test('inferenceProfile rejects a malformed id', () => {
    expect(() => BedrockModel.inferenceProfile('us anthropic')).toThrow(/^BedrockModel\.inferenceProfile: 'us anthropic' is not a Bedrock model or profile id/);
  });

  test('accepts model ids with versions and dots', () => {
    expect(BedrockModel.foundationModel('amazon.nova-pro-v1:0').modelId).toBe('amazon.nova-pro-v1:0');
    expect(BedrockModel.foundationModel('meta.llama3-1-70b-instruct-v1:0').modelId).toBe('meta.llama3-1-70b-instruct-v1:0');
  });
});

describe('BedrockStage contracts', () => {
  test('offloadFields turns a string field into an S3 pointer in the output contract only', () => {
    const stage = bedrock(newStack(), { offloadFields: ['summary'] });
    expect(stage.outputContract.schema.properties.summary).toEqual(POINTER_SCHEMA);
    expect(stage.outputContract.schema.required).toContain('summary');
    const dir = stageAssetDir(stage);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'stage-config.json'), 'utf8')).offloadFields).toEqual(['summary']);
    const v = loadValidatorsSource(fs.readFileSync(path.join(dir, 'validators.js'), 'utf8'));
    expect(v.model!({ summary: 'long text', riskScore: 0.1 })).toBe(true); // the model still replies a string
    const screening = {
      promptInjection: false,
      patterns: [],
      injectionSuspected: false,
      layers: { normalization: false, phrases: false, structure: false, guardrail: false, spotlight: false },
    };
    const added = { response: { bucket: 'work-bucket', key: 'r' }, screening, usage: { inputTokens: 1, outputTokens: 1 } };
    expect(v.output({ summary: 'long text', riskScore: 0.1, ...added })).toBe(false);
    expect(v.output({ summary: { bucket: 'work-bucket', key: 'stages/Summarize/r/summary.json' }, riskScore: 0.1, ...added })).toBe(true);
  });

  test.each(['riskScore', 'riskClauses', 'missing'])('offloading %p (not a string property) throws', (field) => {
    expect(() => bedrock(newStack(), { offloadFields: [field] }))
      .toThrow(new RegExp(`^\\[BedrockStage TestStack/Summarize\\] \`offloadFields\` names '${field}', which the output contract \\(StageContract\\.fromObject\\) does not declare as a string property`));
  });

  test.each(['response', 'screening', 'usage'])('an output contract declaring %p (added by the stage) throws', (name) => {
    const output = StageContract.fromObject({ type: 'object', properties: { [name]: { type: 'string' } } });
    expect(() => bedrock(newStack(), { output }))
      .toThrow(new RegExp(`\\[BedrockStage TestStack/Summarize\\] the output contract \\(StageContract\\.fromObject\\) declares '${name}', which the Bedrock stage adds itself\\. Rename that field\\.`));
  });

  test('the input contract requires the document and each results.X.y the prompt reads', () => {
    const stage = bedrock(newStack(), {
      prompt: PromptTemplate.fromText('Type {{results.Classify.documentType}} ({{ results.Classify.confidence }}), file {{document.key}}: {{text}}', { version: '1' }),
    });
    const input = stage.inputContract.schema;
    expect(input.required).toEqual(['document', 'results']);
    expect(input.properties.document.required).toEqual(['bucket', 'key']);
    expect(input.properties.document.properties.key).toEqual({ type: 'string', minLength: 1 });
    expect(input.properties.results).toEqual({
      type: 'object',
      required: ['Classify'],
      properties: { Classify: { type: 'object', required: ['documentType', 'confidence'], properties: { documentType: {}, confidence: {} } } },
    });
    expect(stage.readsText).toBe(true);
    // A producer that declares the fields satisfies it; one that does not, fails.
    const view = (classify: any) => ({
      type: 'object',
      required: ['document', 'results'],
      properties: { document: input.properties.document, results: { type: 'object', required: ['Classify'], properties: { Classify: classify } } },
    });
    expect(checkSatisfies(input, view({ type: 'object', required: ['documentType', 'confidence'], properties: { documentType: { type: 'string' }, confidence: { type: 'number' } } }), '$')).toEqual([]);
    expect(checkSatisfies(input, view({ type: 'object', required: ['documentType'], properties: { documentType: { type: 'string' } } }), '$'))
      .toEqual([{ path: '$.results.Classify.confidence', problem: 'is required, but no earlier contract declares it' }]);
  });

  test('a prompt without {{text}} does not read the text alias and requires only the document', () => {
    const stage = bedrock(newStack(), { prompt: PromptTemplate.fromText('Name a colour for {{document.key}}.', { version: '1' }) });
    expect(stage.readsText).toBe(false);
    expect(stage.inputContract.schema.required).toEqual(['document']);
    expect(stage.inputContract.schema.properties.results).toBeUndefined();
  });

  test('an explicit input contract wins over the derived one', () => {
    const input = StageContract.fromObject({ type: 'object', required: ['document'] });
    expect(bedrock(newStack(), { input }).inputContract).toBe(input);
  });

  test('the same props give the same asset; another prompt version another one', () => {
    const dir1 = stageAssetDir(bedrock(newStack()));
    const dir2 = stageAssetDir(bedrock(newStack()));
    const dir3 = stageAssetDir(bedrock(newStack(), { prompt: PromptTemplate.fromText('Summarize the contract: {{text}}', { version: '4', systemPrompt: 'You are a lawyer.' }) }));
    expect(dir1).toBe(dir2);
    expect(dir3).not.toBe(dir1);
  });
});

describe('BedrockStage validation', () => {
  test.each([0, 200_001, 1.5])('rejects maxTokens %p', (maxTokens) => {
    expect(() => bedrock(newStack(), { maxTokens }))
      .toThrow(new RegExp(`^\\[BedrockStage TestStack/Summarize\\] \`maxTokens\` must be a whole number from 1 to 200000, got: ${maxTokens}\\.`));
  });

  test.each([-0.1, 1.1])('rejects temperature %p', (temperature) => {
    expect(() => bedrock(newStack(), { temperature }))
      .toThrow(new RegExp(`\\[BedrockStage TestStack/Summarize\\] \`temperature\` must be between 0 and 1, got: ${temperature}\\.`));
  });

  test.each([0, -5, 2.5])('rejects maxInputChars %p', (maxInputChars) => {
    expect(() => bedrock(newStack(), { maxInputChars }))
      .toThrow(new RegExp(`\\[BedrockStage TestStack/Summarize\\] \`maxInputChars\` must be a positive whole number, got: ${maxInputChars}\\.`));
  });

  test('rejects a timeout over 15 minutes (the handler runs the whole call)', () => {
    expect(() => bedrock(newStack(), { timeout: Duration.minutes(20) }))
      .toThrow(/`timeout` must be at most 15 minutes for a bedrock stage \(its handler runs the whole call\), got: 20 minutes/);
  });
});

describe('PromptTemplate', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prompt-template-test-'));
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('fromText: variables in order of first use, deduplicated', () => {
    const t = PromptTemplate.fromText('{{text}} {{results.A.b}} {{ text }} {{document.key}} {{results.A.b}}', { version: '1.0-rc_1', systemPrompt: 'sys' });
    expect(t.variables).toEqual(['text', 'results.A.b', 'document.key']);
    expect(t.version).toBe('1.0-rc_1');
    expect(t.systemPrompt).toBe('sys');
    expect(t.text).toBe('{{text}} {{results.A.b}} {{ text }} {{document.key}} {{results.A.b}}');
  });

  test('fromFile reads a UTF-8 file', () => {
    const file = path.join(dir, 'summarize.txt');
    fs.writeFileSync(file, 'Résumé: {{text}}\n');
    const t = PromptTemplate.fromFile(file, { version: '2' });
    expect(t.text).toBe('Résumé: {{text}}\n');
    expect(t.variables).toEqual(['text']);
  });

  test('fromFile: an unreadable file names the file and the error code', () => {
    const file = path.join(dir, 'missing.txt');
    expect(() => PromptTemplate.fromFile(file, { version: '1' }))
      .toThrow(`PromptTemplate.fromFile: cannot read the prompt file '${file}' (ENOENT). Pass the path of an existing text file.`);
    expect(() => PromptTemplate.fromFile(dir, { version: '1' })).toThrow(/cannot read the prompt file '.*' \(EISDIR\)/);
  });

  test.each(['', '   \n\t'])('rejects an empty prompt %p', (text) => {
    expect(() => PromptTemplate.fromText(text, { version: '1' }))
      .toThrow('PromptTemplate.fromText: the prompt is empty. Write the instructions, with placeholders such as {{text}}.');
  });

  test('fromFile: an empty file names the file', () => {
    const file = path.join(dir, 'empty.txt');
    fs.writeFileSync(file, '\n');
    expect(() => PromptTemplate.fromFile(file, { version: '1' })).toThrow(`PromptTemplate.fromFile('${file}'): the prompt is empty.`);
  });

  test('rejects a prompt over 100 KiB (bytes, not characters)', () => {
    expect(PromptTemplate.fromText('a'.repeat(102_400), { version: '1' }).text).toHaveLength(102_400);
    expect(() => PromptTemplate.fromText('a'.repeat(102_401), { version: '1' }))
      .toThrow('PromptTemplate.fromText: the prompt is 102401 bytes, over the 102400-byte limit.');
    expect(() => PromptTemplate.fromText('é'.repeat(51_201), { version: '1' })).toThrow(/the prompt is 102402 bytes/);
  });

  test.each(['', 'v 1', 'a'.repeat(33), '1/2'])('rejects version %p', (version) => {
    expect(() => PromptTemplate.fromText('{{text}}', { version }))
      .toThrow(new RegExp('PromptTemplate\\.fromText: `version` must be 1-32 letters, digits, \'\\.\', \'_\' or \'-\', got: \''));
  });

  test.each([
    ['{{summary}}', '{{summary}}'],
    ['{{document}}', '{{document}}'],
    ['{{results}}', '{{results}}'],
    ['{{run.id}} and {{doc.key}}', '{{run.id}}, {{doc.key}}'],
  ])('rejects placeholders outside text/document/results: %p', (text, listed) => {
    expect(() => PromptTemplate.fromText(text, { version: '1' }))
      .toThrow(`PromptTemplate.fromText: the placeholders ${listed} read nothing a stage can see. Use {{text}}, {{document.<field>}} or {{results.<Stage>.<field>}}.`);
  });

  test('rejects {{text.<x>}}: the text alias has no fields', () => {
    // `text` is an alias for the latest text pointer; `text.pages` resolves to nothing at run time,
    // and the derived input contract would require a top-level `text` the stage view never has.
    expect(() => PromptTemplate.fromText('{{text.pages}}', { version: '1' })).toThrow(/read nothing a stage can see/);
  });
});

describe('BedrockStage screening options', () => {
  test('screening layers: OFF and REPORT layers get no flag in the output contract; guardrail OFF creates no guardrail and grants nothing', () => {
    const stack = newStack({ withEnv: true });
    const stage = bedrock(stack, { screening: { guardrail: ScreeningMode.OFF, spotlight: ScreeningMode.REPORT, normalization: ScreeningMode.OFF } });
    attachStage(stage, newAttachment(stack));
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Bedrock::Guardrail', 0);
    expect(statementsWith(roleStatements(template, stage.role), 'bedrock:ApplyGuardrail')).toEqual([]);
    expect(stage.outputContract.schema.properties.screening.properties.layers.required).toEqual(['phrases', 'structure']);
    const config = JSON.parse(fs.readFileSync(path.join(stageAssetDir(stage), 'stage-config.json'), 'utf8'));
    expect(config.screening).toMatchObject({ normalization: 'off', guardrail: 'off', spotlight: 'report', phrases: 'enforce' });
  });

  test('promptAttackStrength sets the filter; the config names the prompt delimiters', () => {
    const stack = newStack({ withEnv: true });
    const stage = bedrock(stack, {
      prompt: PromptTemplate.fromText('Review:\n<contract>\n{{text}}\n</contract>', { version: '1' }),
      screening: { promptAttackStrength: PromptAttackStrength.MEDIUM },
    });
    attachStage(stage, newAttachment(stack));
    Template.fromStack(stack).hasResourceProperties('AWS::Bedrock::Guardrail', {
      ContentPolicyConfig: { FiltersConfig: [{ Type: 'PROMPT_ATTACK', InputStrength: 'MEDIUM', OutputStrength: 'NONE' }] },
    });
    const config = JSON.parse(fs.readFileSync(path.join(stageAssetDir(stage), 'stage-config.json'), 'utf8'));
    expect(config.screening.delimiterTags).toEqual(['contract']);
  });

  test('your own prompt-attack guardrail: no guardrail created, ApplyGuardrail on exactly its ARN, passed in the environment', () => {
    const stack = newStack({ withEnv: true });
    const stage = bedrock(stack, { screening: { promptAttackGuardrail: { guardrailId: 'gr-own', guardrailVersion: '4' } } });
    attachStage(stage, newAttachment(stack));
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Bedrock::Guardrail', 0);
    expect(statementsWith(roleStatements(template, stage.role), 'bedrock:ApplyGuardrail')).toEqual([{
      Action: 'bedrock:ApplyGuardrail',
      Effect: 'Allow',
      Resource: partitionArn(':bedrock:us-east-1:123456789012:guardrail/gr-own'),
    }]);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { PROMPT_ATTACK_GUARDRAIL_ID: 'gr-own', PROMPT_ATTACK_GUARDRAIL_VERSION: '4' } },
    });
  });

  test('promptAttackStrength with your own guardrail throws', () => {
    expect(() => bedrock(newStack(), {
      screening: { promptAttackStrength: PromptAttackStrength.LOW, promptAttackGuardrail: { guardrailId: 'gr-own', guardrailVersion: '1' } },
    })).toThrow(/\[BedrockStage TestStack\/Summarize\] `screening.promptAttackStrength` applies only to the guardrail the stage creates, got: LOW with `screening.promptAttackGuardrail` 'gr-own'/);
  });

  test('guardrail settings with the guardrail layer OFF throw', () => {
    expect(() => bedrock(newStack(), { screening: { guardrail: ScreeningMode.OFF, promptAttackStrength: PromptAttackStrength.HIGH } }))
      .toThrow(/`screening.guardrail` is OFF, so `screening.promptAttackStrength` has no effect/);
  });

  test('an output contract declaring injectionSuspected throws while spotlighting is on, and is allowed when it is off', () => {
    const withField = StageContract.fromObject({ ...SUMMARY, properties: { ...SUMMARY.properties, injectionSuspected: { type: 'boolean' } } });
    expect(() => bedrock(newStack(), { output: withField }))
      .toThrow(/declares 'injectionSuspected', which the stage asks the model for itself when `screening.spotlight` is on \(got: enforce\)/);
    expect(() => bedrock(newStack(), { output: withField, screening: { spotlight: ScreeningMode.OFF } })).not.toThrow();
  });
});
