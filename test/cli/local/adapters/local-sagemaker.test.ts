import { InvokeEndpointCommand } from '@aws-sdk/client-sagemaker-runtime';
import { EMPLOYMENT_TEXT, INJECTED_TEXT, MSA_TEXT, NDA_TEXT, OTHER_TEXT, SOW_TEXT } from './fixtures';
import { classifyContract, LocalSageMaker } from '../../../../src/cli/local/adapters/local-sagemaker';

function invoke(sm: LocalSageMaker, body: unknown, endpoint = 'contract-classifier') {
  return sm.send(new InvokeEndpointCommand({
    EndpointName: endpoint,
    ContentType: 'application/json',
    Body: typeof body === 'string' ? body : JSON.stringify(body),
  }));
}

describe('classifyContract', () => {
  test.each([
    ['NDA', NDA_TEXT],
    ['MSA', MSA_TEXT],
    ['SOW', SOW_TEXT],
    ['EMPLOYMENT', EMPLOYMENT_TEXT],
    ['OTHER', OTHER_TEXT],
    ['MSA', INJECTED_TEXT],
  ])('labels %s', (label, text) => {
    const result = classifyContract(text);
    expect(result.documentType).toBe(label);
    expect(result.confidence).toBeGreaterThanOrEqual(0);
    expect(result.confidence).toBeLessThanOrEqual(1);
    expect(Math.round(result.confidence * 100) / 100).toBe(result.confidence);
  });

  test('the title decides: an NDA that talks about employees stays an NDA', () => {
    const text = `${NDA_TEXT}\nEmployee, employee, employer, salary and employee benefits are Confidential Information.`;
    expect(classifyContract(text).documentType).toBe('NDA');
  });

  test('a SOW whose second heading line names its MSA is a SOW', () => {
    expect(classifyContract(SOW_TEXT).documentType).toBe('SOW');
    expect(classifyContract(SOW_TEXT).scores.MSA).toBeGreaterThan(0);
  });

  test('without a title, body keywords decide', () => {
    const untitled = 'The Receiving Party shall keep the Confidential Information of the Disclosing Party secret. Confidential Information excludes public data.';
    expect(classifyContract(untitled).documentType).toBe('NDA');
    expect(classifyContract('Deliverables and milestones are listed in the statement of work.').documentType).toBe('SOW');
  });

  test('confidence is high for a clear document and falls as evidence gets mixed', () => {
    const clear = classifyContract(NDA_TEXT).confidence;
    const mixed = classifyContract('The deliverables and milestones include confidential information for the disclosing party and receiving party.').confidence;
    expect(clear).toBeGreaterThanOrEqual(0.85);
    expect(mixed).toBeLessThan(clear);
    expect(classifyContract('')).toMatchObject({ documentType: 'OTHER', confidence: 0.9 });
  });

  test('is deterministic', () => {
    expect(classifyContract(MSA_TEXT)).toEqual(classifyContract(MSA_TEXT));
  });
});

describe('LocalSageMaker', () => {
  test('InvokeEndpoint answers { documentType, confidence } as JSON bytes', async () => {
    const sm = new LocalSageMaker();
    const out = await invoke(sm, { text: EMPLOYMENT_TEXT });
    expect(out.ContentType).toBe('application/json');
    expect(out.Body).toBeInstanceOf(Uint8Array);
    const body = JSON.parse(new TextDecoder().decode(out.Body));
    expect(Object.keys(body).sort()).toEqual(['confidence', 'documentType']);
    expect(body.documentType).toBe('EMPLOYMENT');
    expect(sm.invocations).toEqual([{ endpointName: 'contract-classifier', request: { text: EMPLOYMENT_TEXT } }]);
  });

  test('accepts a Uint8Array body and other field names', async () => {
    const sm = new LocalSageMaker();
    const out = await sm.send(new InvokeEndpointCommand({
      EndpointName: 'e',
      Body: new TextEncoder().encode(JSON.stringify({ document: NDA_TEXT, key: 'incoming/nda.pdf' })),
    }));
    expect(JSON.parse(new TextDecoder().decode(out.Body)).documentType).toBe('NDA');
  });

  test('errors as SageMaker raises them: ModelError for a bad request, ValidationError for an unknown endpoint', async () => {
    const sm = new LocalSageMaker({ endpointNames: ['contract-classifier'] });
    await expect(invoke(sm, 'not json')).rejects.toMatchObject({ name: 'ModelError', OriginalStatusCode: 400 });
    await expect(invoke(sm, { n: 1 })).rejects.toMatchObject({ name: 'ModelError' });
    await expect(invoke(sm, { text: 'x' }, 'other')).rejects.toMatchObject({ name: 'ValidationError', $metadata: { httpStatusCode: 400 } });
    class DescribeEndpointCommand { public readonly input = {}; }
    await expect(sm.send(new DescribeEndpointCommand())).rejects.toThrow(/does not implement DescribeEndpointCommand/);
  });
});
