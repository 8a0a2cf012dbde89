import { HttpStageConfig, StageInvocation } from '../../../../src/shared';
import { runHttpStage } from '../../../../src/stages/http/handler/http-stage';
import { invocation, makeValidators, runState } from '../../../helpers/handler-test-kit';
import { auditRecords, stageContext } from '../../bedrock/handler/bedrock-test-kit';

const CONFIG: HttpStageConfig = { stage: 'Lookup', kind: 'http', method: 'GET', url: 'https://api.example.com/v1/bins' };
const OUTPUT = {
  type: 'object',
  required: ['listed', 'country'],
  additionalProperties: false,
  properties: { listed: { type: 'boolean' }, country: { type: 'string', pattern: '^[A-Z]{2}$' } },
};

function setup() {
  const fx = stageContext('Lookup', 'http', makeValidators({ output: OUTPUT }));
  return { ...fx, deps: { ctx: fx.ctx, config: CONFIG } };
}

/** The state after the HTTP task: its `{ statusCode, body }` at results.Lookup. */
function answered(body: unknown, statusCode = 200): StageInvocation {
  return invocation({ state: runState({ results: { Parse: { bin: '411111' }, Lookup: { statusCode, body } } as any }) });
}

describe('HTTP stage check', () => {
  test('a JSON body that meets the contract is the output; the audit record names the call', async () => {
    const { deps, s3Mock } = setup();
    await expect(runHttpStage(deps, answered({ listed: false, country: 'DE' }))).resolves.toEqual({ listed: false, country: 'DE' });
    const [record] = auditRecords(s3Mock);
    expect(record).toMatchObject({ stage: 'Lookup', stageKind: 'http', outcome: 'SUCCEEDED', modelId: 'GET https://api.example.com/v1/bins' });
  });

  test('a body the API sent as JSON text is parsed', async () => {
    const { deps } = setup();
    await expect(runHttpStage(deps, answered('{"listed":true,"country":"FR"}'))).resolves.toEqual({ listed: true, country: 'FR' });
  });

  test.each([
    ['a body off the contract', { listed: 'no', country: 'DE' }, 'Contract.OutputViolation'],
    ['a body that is not JSON', '<html>maintenance</html>', 'Contract.OutputViolation'],
    ['a JSON array', [1, 2], 'Contract.OutputViolation'],
  ])('%s fails with %s, recorded as FAILED; the message never quotes the body', async (_what, body, name) => {
    const { deps, s3Mock } = setup();
    const err: any = await runHttpStage(deps, answered(body)).catch((e) => e);
    expect(err.name).toBe(name);
    expect(err.message).not.toContain('maintenance');
    expect(auditRecords(s3Mock)).toEqual([expect.objectContaining({ outcome: 'FAILED', errorName: name })]);
  });

  test('without the call\'s answer in the state it is an input violation', async () => {
    const { deps } = setup();
    const err: any = await runHttpStage(deps, invocation({ state: runState({ results: {} }) })).catch((e) => e);
    expect(err.name).toBe('Contract.InputViolation');
    expect(err.message).toContain('results.Lookup');
  });
});
