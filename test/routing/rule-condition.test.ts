import { Stack } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { RuleCondition } from '../../src/routing/rule-condition';

/** The rendered Choice rule of a condition (guarding the given paths). */
function render(condition: RuleCondition, guarded: string[] = []): any {
  return new Stack().resolve(condition._toCondition((p) => guarded.includes(p)).renderCondition());
}

describe('RuleCondition leaves', () => {
  test.each([
    [RuleCondition.stringEquals('Classify.documentType', 'NDA'), { Variable: '$.results.Classify.documentType', StringEquals: 'NDA' }, 'string', 'Classify.documentType == "NDA"'],
    [RuleCondition.numberEquals('Summarize.riskScore', 1), { Variable: '$.results.Summarize.riskScore', NumericEquals: 1 }, 'number', 'Summarize.riskScore == 1'],
    [RuleCondition.numberAtLeast('Summarize.riskScore', 0.7), { Variable: '$.results.Summarize.riskScore', NumericGreaterThanEquals: 0.7 }, 'number', 'Summarize.riskScore >= 0.7'],
    [RuleCondition.numberAbove('Summarize.riskScore', 0.7), { Variable: '$.results.Summarize.riskScore', NumericGreaterThan: 0.7 }, 'number', 'Summarize.riskScore > 0.7'],
    [RuleCondition.numberAtMost('Summarize.riskScore', 0.3), { Variable: '$.results.Summarize.riskScore', NumericLessThanEquals: 0.3 }, 'number', 'Summarize.riskScore <= 0.3'],
    [RuleCondition.numberBelow('Summarize.riskScore', 0.3), { Variable: '$.results.Summarize.riskScore', NumericLessThan: 0.3 }, 'number', 'Summarize.riskScore < 0.3'],
    [RuleCondition.booleanEquals('Summarize.screening.promptInjection', true), { Variable: '$.results.Summarize.screening.promptInjection', BooleanEquals: true }, 'boolean', 'Summarize.screening.promptInjection == true'],
  ])('%#: renders, declares its use and describes itself', (condition, rendered, expects, description) => {
    expect(render(condition)).toEqual(rendered);
    expect(condition.uses).toHaveLength(1);
    expect(condition.uses[0].expects).toBe(expects);
    expect(condition.description).toBe(description);
  });

  test('stringEquals records the compared value', () => {
    expect(RuleCondition.stringEquals('Classify.documentType', 'NDA').uses).toEqual([{ path: 'Classify.documentType', expects: 'string', values: ['NDA'] }]);
  });

  test('a guarded path adds IsPresent before the comparison', () => {
    expect(render(RuleCondition.numberAtLeast('Summarize.riskScore', 0.7), ['Summarize.riskScore'])).toEqual({
      And: [
        { Variable: '$.results.Summarize.riskScore', IsPresent: true },
        { Variable: '$.results.Summarize.riskScore', NumericGreaterThanEquals: 0.7 },
      ],
    });
  });

  test('stringIn: one value is a plain equality, several an Or', () => {
    expect(render(RuleCondition.stringIn('Classify.documentType', ['NDA']))).toEqual({ Variable: '$.results.Classify.documentType', StringEquals: 'NDA' });
    const several = RuleCondition.stringIn('Classify.documentType', ['NDA', 'MSA']);
    expect(render(several)).toEqual({
      Or: [
        { Variable: '$.results.Classify.documentType', StringEquals: 'NDA' },
        { Variable: '$.results.Classify.documentType', StringEquals: 'MSA' },
      ],
    });
    expect(several.uses).toEqual([{ path: 'Classify.documentType', expects: 'string', values: ['NDA', 'MSA'] }]);
    expect(several.description).toBe('Classify.documentType in ["NDA","MSA"]');
  });

  test('isPresent is never guarded and expects anything', () => {
    const c = RuleCondition.isPresent('Classify.confidence');
    expect(render(c, ['Classify.confidence'])).toEqual({ Variable: '$.results.Classify.confidence', IsPresent: true });
    expect(c.uses).toEqual([{ path: 'Classify.confidence', expects: 'any' }]);
  });

  test('stringIn with no values throws', () => {
    expect(() => RuleCondition.stringIn('Classify.documentType', []))
      .toThrow("RuleCondition.stringIn('Classify.documentType'): `values` must not be empty. Pass the strings to match.");
  });

  test.each(['riskScore', 'Summarize', '1Stage.x', 'Summarize.', '.riskScore', 'Summarize.risk score', '$.results.Summarize.riskScore'])(
    'rejects the path %p', (path) => {
      expect(() => RuleCondition.numberAtLeast(path, 1))
        .toThrow(`RuleCondition: the path '${path}' must be '<Stage>.<field>' (dotted, e.g. 'Summarize.riskScore'). Address a field of an earlier stage's result.`);
    });

  test('accepts nested and hyphenated field paths', () => {
    expect(RuleCondition.stringEquals('Summarize.screening.risk-level', 'x').uses[0].path).toBe('Summarize.screening.risk-level');
  });
});

describe('RuleCondition combinators', () => {
  const a = RuleCondition.stringEquals('Classify.documentType', 'NDA');
  const b = RuleCondition.numberBelow('Summarize.riskScore', 0.3);

  test('all: And of the parts, uses of all parts; one part renders alone', () => {
    const c = RuleCondition.all([a, b]);
    expect(render(c)).toEqual({ And: [render(a), render(b)] });
    expect(c.uses.map((u) => u.path)).toEqual(['Classify.documentType', 'Summarize.riskScore']);
    expect(c.description).toBe('(Classify.documentType == "NDA" and Summarize.riskScore < 0.3)');
    expect(render(RuleCondition.all([a]))).toEqual(render(a));
  });

  test('any: Or of the parts', () => {
    const c = RuleCondition.any([a, b]);
    expect(render(c, ['Summarize.riskScore'])).toEqual({ Or: [render(a), render(b, ['Summarize.riskScore'])] });
    expect(c.description).toBe('(Classify.documentType == "NDA" or Summarize.riskScore < 0.3)');
    expect(render(RuleCondition.any([b]))).toEqual(render(b));
  });

  test('not: Not of the part, same uses', () => {
    const c = RuleCondition.not(a);
    expect(render(c)).toEqual({ Not: render(a) });
    expect(c.uses).toEqual(a.uses);
    expect(c.description).toBe('not Classify.documentType == "NDA"');
  });

  test.each([['all', () => RuleCondition.all([])], ['any', () => RuleCondition.any([])]])('%s of nothing throws', (what, make) => {
    expect(make).toThrow(`RuleCondition.${what}: \`conditions\` must not be empty. Pass at least one condition.`);
  });

  test('renders a valid sfn.Condition object', () => {
    expect(RuleCondition.all([a, b])._toCondition(() => false)).toBeInstanceOf(sfn.Condition);
  });
});
