/**
 * Whole-stack security checks of the flagship pipeline: cdk-nag (AwsSolutions) with zero
 * violations, granular and reasoned acknowledgements, and an IAM walker over every policy.
 */
import { Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { IConstruct } from 'constructs';
import { buildPipelineStack, PipelineFixture, PipelineFixtureOptions, templateOf } from '../helpers/pipeline-fixture';

interface NagRun {
  readonly fixture: PipelineFixture;
  readonly template: Template;
  readonly violations: Array<{ ruleName: string; constructPath: string }>;
}

/** Synthesizes first (aspects record the library's acknowledgements), then runs cdk-nag over the stack. */
function nag(options: PipelineFixtureOptions = {}): NagRun {
  const fixture = buildPipelineStack(options);
  const template = templateOf(fixture);
  const report = new AwsSolutionsChecks(fixture.app).validateScope(fixture.stack);
  const violations = report.violations.flatMap((v) => v.violatingResources.map((r) => ({ ruleName: v.ruleName, constructPath: r.constructPath ?? '?' })));
  return { fixture, template, violations };
}

const describeViolations = (vs: NagRun['violations']) => vs.map((v) => `${v.ruleName} at ${v.constructPath}`).join('\n');

describe('cdk-nag AwsSolutions', () => {
  let run: NagRun;
  beforeAll(() => {
    run = nag();
  });

  test('the full pipeline stack has zero violations', () => {
    // The message lists every violation (rule + construct path) when this fails.
    expect(describeViolations(run.violations)).toBe('');
    expect(run.violations).toHaveLength(0);
  });

  test('the stack is not trivially empty (nag had something to check)', () => {
    expect(Object.keys(run.template.findResources('AWS::IAM::Policy')).length).toBeGreaterThan(3);
    expect(Object.keys(run.template.findResources('AWS::Lambda::Function')).length).toBeGreaterThanOrEqual(5);
  });

  test('every acknowledgement is granular (IAM5 per finding) and carries a real reason', () => {
    const acks = acknowledgements(run.fixture.stack);
    expect(acks.length).toBeGreaterThan(0);
    const bad = acks.filter((a) => {
      const id = a.id.replace(/^annotation::/i, '');
      if (/IAM5/.test(id) && !/^AwsSolutions-IAM5\[(Action|Resource)::.+\]$/.test(id)) return true;
      if (/^AwsSolutions-IAM4$/.test(id)) return true; // managed policies are never acknowledged
      return typeof a.reason !== 'string' || a.reason.trim().length < 20;
    });
    expect(bad.map((a) => `${a.path}: ${a.id} (${JSON.stringify(a.reason)})`)).toEqual([]);
  });

  test('IAM5 acknowledgements sit on IAM policies or roles, never on a whole stack or construct subtree', () => {
    const misplaced = acknowledgements(run.fixture.stack)
      .filter((a) => /IAM5/.test(a.id))
      .filter((a) => !(a.node instanceof iam.CfnPolicy) && !(a.node instanceof iam.CfnRole));
    expect(misplaced.map((a) => `${a.path}: ${a.id}`)).toEqual([]);
  });

  test('a wildcard the library does not explain (a user adds s3:* on * to a stage role) IS reported', () => {
    const withWildcard = nag({
      beforePipeline: (parts) => parts.classify.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:*'], resources: ['*'] })),
    });
    const onClassify = withWildcard.violations.filter((v) => /\/Classify\/Role\//.test(v.constructPath));
    // Both findings of the user's statement: the role's own X-Ray 'Resource::*' must not hide the user's.
    expect(onClassify.map((v) => v.ruleName).sort()).toEqual(['AwsSolutions-IAM5[Action::s3:*]', 'AwsSolutions-IAM5[Resource::*]']);
  });

  test('a Resource * on a stage role with a non-exempt action is reported even next to exempt ones', () => {
    const withWildcard = nag({
      beforePipeline: (parts) => parts.extract.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['sagemaker:InvokeEndpoint'], resources: ['*'] })),
    });
    expect(describeViolations(withWildcard.violations)).toMatch(/AwsSolutions-IAM5\[Resource::\*\] at .*\/Extract\/Role\//);
  });
});

// ---------------------------------------------------------------------------------------------
// IAM walker
// ---------------------------------------------------------------------------------------------

/** Actions that may have Resource '*': their services support no resource-level permissions. */
const LOG_DELIVERY_ACTIONS = [
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:DescribeResourcePolicies',
  'logs:DescribeLogGroups',
];
const mayUseStarResource = (action: string) =>
  action.startsWith('textract:') || action.startsWith('xray:') || LOG_DELIVERY_ACTIONS.includes(action);

const list = (v: any): any[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);

/** Every statement of every IAM policy (managed, inline on a role) in the template. */
function statements(template: Template): Array<{ where: string; statement: any }> {
  const out: Array<{ where: string; statement: any }> = [];
  for (const [id, res] of Object.entries(template.findResources('AWS::IAM::Policy'))) {
    for (const st of list((res as any).Properties.PolicyDocument.Statement)) out.push({ where: id, statement: st });
  }
  for (const [id, res] of Object.entries(template.findResources('AWS::IAM::ManagedPolicy'))) {
    for (const st of list((res as any).Properties.PolicyDocument.Statement)) out.push({ where: id, statement: st });
  }
  for (const [id, res] of Object.entries(template.findResources('AWS::IAM::Role'))) {
    for (const p of list((res as any).Properties.Policies)) {
      for (const st of list(p.PolicyDocument.Statement)) out.push({ where: `${id}/${p.PolicyName}`, statement: st });
    }
  }
  return out;
}

/** Why a statement is too broad, or undefined. */
function tooBroad(statement: any): string | undefined {
  if (statement.Effect !== 'Allow') return undefined;
  const actions = list(statement.Action) as string[];
  if (statement.NotAction) return 'uses NotAction';
  if (statement.NotResource) return 'uses NotResource';
  if (actions.includes('*')) return "Action '*'";
  const serviceStar = actions.filter((a) => /^[^:]+:\*$/.test(a));
  if (serviceStar.length > 0) return `service-wide actions ${serviceStar.join(', ')}`;
  if (list(statement.Resource).includes('*')) {
    const notExempt = actions.filter((a) => !mayUseStarResource(a));
    if (notExempt.length > 0) return `Resource '*' for ${notExempt.join(', ')}`;
  }
  return undefined;
}

describe('IAM walker over the full stack', () => {
  test('no policy statement has Action *, service:* actions, or Resource * beyond the documented exceptions', () => {
    const template = templateOf(buildPipelineStack());
    const all = statements(template);
    expect(all.length).toBeGreaterThan(10);
    const offending = all
      .map(({ where, statement }) => ({ where, why: tooBroad(statement), statement }))
      .filter((o) => o.why !== undefined)
      .map((o) => `${o.where}: ${o.why}\n  ${JSON.stringify(o.statement)}`);
    expect(offending.join('\n')).toBe('');
  });

  test('the walker catches what it must (it can fail)', () => {
    expect(tooBroad({ Effect: 'Allow', Action: '*', Resource: 'arn:aws:s3:::b' })).toBeDefined();
    expect(tooBroad({ Effect: 'Allow', Action: ['s3:GetObject', 's3:*'], Resource: 'arn:aws:s3:::b/*' })).toBeDefined();
    expect(tooBroad({ Effect: 'Allow', Action: ['xray:PutTraceSegments', 's3:GetObject'], Resource: '*' })).toMatch(/s3:GetObject/);
    expect(tooBroad({ Effect: 'Allow', Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: '*' })).toBeUndefined();
    expect(tooBroad({ Effect: 'Allow', Action: ['logs:CreateLogDelivery', 'logs:DescribeLogGroups'], Resource: '*' })).toBeUndefined();
    expect(tooBroad({ Effect: 'Allow', Action: ['logs:PutLogEvents'], Resource: '*' })).toBeDefined();
    expect(tooBroad({ Effect: 'Deny', Action: '*', Resource: '*' })).toBeUndefined();
  });

  test('a user-added s3:* statement on a stage role is caught by the walker', () => {
    const template = templateOf(buildPipelineStack({
      beforePipeline: (parts) => parts.summarize.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:*'], resources: ['*'] })),
    }));
    const offending = statements(template).filter(({ statement }) => tooBroad(statement) !== undefined);
    expect(offending).toHaveLength(1);
    expect(offending[0].where).toMatch(/^SummarizeRoleDefaultPolicy/);
  });

  test('no role uses managed policies', () => {
    const template = templateOf(buildPipelineStack());
    const roles = template.findResources('AWS::IAM::Role');
    expect(Object.keys(roles).length).toBeGreaterThanOrEqual(6);
    const withManaged = Object.entries(roles).filter(([, r]) => (r as any).Properties.ManagedPolicyArns !== undefined).map(([id]) => id);
    expect(withManaged).toEqual([]);
    expect(template.findResources('AWS::IAM::ManagedPolicy')).toEqual({});
  });
});

/** Every acknowledgement recorded in the construct tree under `scope`. */
function acknowledgements(scope: IConstruct): Array<{ node: IConstruct; path: string; id: string; reason: any }> {
  const out: Array<{ node: IConstruct; path: string; id: string; reason: any }> = [];
  for (const node of scope.node.findAll()) {
    for (const entry of node.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data as { [id: string]: unknown })) {
        out.push({ node, path: node.node.path, id, reason });
      }
    }
  }
  return out;
}
