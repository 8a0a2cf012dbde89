import { Aspects, CfnResource, IAspect, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { IConstruct } from 'constructs';

/** One wildcard a construct needs, and why. */
export interface WildcardReason {
  /** Does this `Action::...` / `Resource::...` finding belong to this reason? */
  readonly matches: (finding: string, statementActions: string[]) => boolean;
  readonly reason: string;
}

/** Flattens a CloudFormation reference the way policy checkers print it (`<Logical.Arn>/x/*`). */
export function flattenReference(node: any): string {
  if (node === undefined) return '';
  if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/\}/g, '>');
  if (node['Fn::Join']) {
    const [delimiter, items] = node['Fn::Join'];
    return items.map(flattenReference).join(delimiter);
  }
  if (node['Fn::Sub']) return flattenReference(node['Fn::Sub']);
  if (node['Fn::GetAtt']) {
    const [res, attr] = node['Fn::GetAtt'];
    return `<${flattenReference(res)}.${flattenReference(attr)}>`;
  }
  if (node['Fn::ImportValue']) return flattenReference(node['Fn::ImportValue']);
  if (node.Ref) return `<${flattenReference(node.Ref)}>`;
  return JSON.stringify(node);
}

const list = (v: any): any[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);

/** The wildcard findings of a resolved policy document, each with the actions of its statement. */
export function wildcardFindings(doc: any): Array<{ finding: string; actions: string[] }> {
  const out: Array<{ finding: string; actions: string[] }> = [];
  for (const st of list(doc?.Statement)) {
    if (st.Effect !== 'Allow') continue;
    const actions = list(st.Action) as string[];
    for (const a of actions) if (a.includes('*')) out.push({ finding: `Action::${a}`, actions });
    for (const r of list(st.Resource)) {
      const flat = flattenReference(r);
      if (flat.includes('*')) out.push({ finding: `Resource::${flat}`, actions });
    }
  }
  return out;
}

/**
 * Acknowledges, finding by finding, the `AwsSolutions-IAM5` wildcard findings of the IAM policies
 * under a scope that a known reason explains. A wildcard no reason explains (for instance one a
 * user adds) stays unacknowledged and is reported. The policy checkers run after aspects, so the
 * policies are complete when this runs.
 */
class AcknowledgeWildcards implements IAspect {
  public visit(node: IConstruct): void {
    if (!(node instanceof iam.CfnPolicy) && !(node instanceof iam.CfnRole)) return;
    if (node instanceof iam.CfnPolicy || node.policies !== undefined) {
      for (const pack of ['HIPAA.Security', 'NIST.800.53.R5', 'PCI.DSS.321']) Validations.of(node).acknowledge({ id: `${pack}-IAMNoInlinePolicy`, reason: INLINE_REASON });
    }
    // The reasons registered on this policy's construct and on every scope above it.
    const reasons: WildcardReason[] = [];
    for (let c: IConstruct | undefined = node; c; c = c.node.scope) reasons.push(...((c as any)[REASONS] ?? []));
    const stack = Stack.of(node);
    const docs: any[] = node instanceof iam.CfnPolicy
      ? [stack.resolve(node.policyDocument)]
      : list(stack.resolve(node.policies)).map((p: any) => stack.resolve(p.policyDocument));
    // A finding id covers every statement of the policy that produces it: acknowledge it only when
    // a known reason explains each of those statements, so a user's own wildcard stays reported.
    const byFinding = new Map<string, string[][]>();
    for (const doc of docs) {
      for (const { finding, actions } of wildcardFindings(doc)) {
        byFinding.set(finding, [...(byFinding.get(finding) ?? []), actions]);
      }
    }
    for (const [finding, statements] of byFinding) {
      const found = statements.map((actions) => reasons.find((r) => r.matches(finding, actions)));
      if (found.every((r) => r !== undefined)) {
        const why = [...new Set(found.map((r) => r!.reason))].join(' ');
        Validations.of(node).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason: why });
      }
    }
  }
}

/** Why the library's roles carry inline policies. */
const INLINE_REASON = 'Each role has its own policy, attached to that role alone and written for it (exact ARNs, one stage\'s prefixes): a managed policy would add a shareable object with nothing to share. Attach your own managed policies to `role` if your account requires them.';

/** Where a construct keeps the wildcard reasons registered on it. */
const REASONS = Symbol.for('cdk-ai-pipeline.wildcard-reasons');

/** Registers wildcard reasons for the IAM policies under `scope` (together with those of its ancestors). */
export function acknowledgeWildcards(scope: IConstruct, reasons: WildcardReason[]): void {
  const holder = scope as any;
  if (!holder[REASONS]) {
    holder[REASONS] = [];
    Aspects.of(scope).add(new AcknowledgeWildcards());
  }
  holder[REASONS].push(...reasons);
}

/** Acknowledges one whole-resource finding (not IAM5) on a resource, with its reason. */
export function acknowledgeRule(resource: IConstruct, id: string, reason: string): void {
  const target = CfnResource.isCfnResource(resource) ? resource : (resource.node.defaultChild ?? resource);
  Validations.of(target).acknowledge({ id, reason });
}

/** Reasons shared by every construct that runs Lambda functions with X-Ray tracing. */
export const XRAY_REASON: WildcardReason = {
  matches: (f, actions) => f === 'Resource::*' && actions.every((a) => a.startsWith('xray:')),
  reason: 'X-Ray PutTraceSegments/PutTelemetryRecords do not support resource-level permissions.',
};
