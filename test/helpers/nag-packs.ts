/**
 * The five cdk-nag packs the library keeps clean (AwsSolutions, Serverless, HIPAA Security, NIST
 * 800-53 R5, PCI DSS 3.2.1), run over a synthesized stack. Any example or construct test can call
 * `fivePackFindings(app, stack)` and assert that every pack reports nothing unacknowledged.
 */
import { App, Stack } from 'aws-cdk-lib';
import { AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, PCIDSS321Checks, ServerlessChecks } from 'cdk-nag';

/** The five packs, by the name a summary line prints. */
export const FIVE_PACKS = ['AwsSolutions', 'Serverless', 'HIPAA.Security', 'NIST.800.53.R5', 'PCI.DSS.321'] as const;
export type PackName = typeof FIVE_PACKS[number];

/** One unacknowledged finding: the rule (with its finding id, if any) and the construct path. */
export interface PackFinding {
  readonly rule: string;
  readonly path: string;
}

const packOf = (app: App, name: PackName) => {
  switch (name) {
    case 'AwsSolutions': return new AwsSolutionsChecks(app);
    case 'Serverless': return new ServerlessChecks(app);
    case 'HIPAA.Security': return new HIPAASecurityChecks(app);
    case 'NIST.800.53.R5': return new NIST80053R5Checks(app);
    case 'PCI.DSS.321': return new PCIDSS321Checks(app);
  }
};

/**
 * The unacknowledged findings of each pack on `stack`. Synthesize the app first (aspects record the
 * library's acknowledgements), e.g. with `Template.fromStack(stack)`.
 */
export function fivePackFindings(app: App, stack: Stack): Record<PackName, PackFinding[]> {
  const out = {} as Record<PackName, PackFinding[]>;
  for (const name of FIVE_PACKS) {
    const report = packOf(app, name).validateScope(stack);
    out[name] = report.violations.flatMap((v: any) => v.violatingResources.map((r: any) => ({ rule: v.ruleName, path: r.constructPath ?? '?' })));
  }
  return out;
}

/** `AwsSolutions 0 · Serverless 0 · ...`: the count per pack, for a summary line. */
export function packSummary(findings: Record<PackName, PackFinding[]>): string {
  return FIVE_PACKS.map((p) => `${p} ${findings[p].length}`).join(' · ');
}

/** Every finding as `pack rule at path`, one a line ('' when clean): a readable failure message. */
export function describeFindings(findings: Record<PackName, PackFinding[]>): string {
  return FIVE_PACKS.flatMap((p) => findings[p].map((f) => `${p} ${f.rule} at ${f.path}`)).join('\n');
}
