import { AspectPriority, Aspects, IAspect, Names, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { IConstruct } from 'constructs';

/** The settings a locked-down account asks of every role and function the library makes. */
export interface DeploymentSettings {
  /** Reserved concurrency of every library function. */
  readonly functionConcurrency?: number;
  /** The permissions boundary of every library role. */
  readonly permissionsBoundary?: iam.IManagedPolicy;
  /** The prefix of every library role's name. */
  readonly roleNamePrefix?: string;
}

/** A role name is at most 64 characters. */
const ROLE_NAME_MAX = 64;

/**
 * Applies the settings to the roles and functions under a scope: a permissions boundary, a role
 * name made of the prefix and a unique, stable suffix, and reserved concurrency. Values a user set
 * on a resource are kept.
 */
class ApplySettings implements IAspect {
  constructor(private readonly settings: DeploymentSettings) {}
  public visit(node: IConstruct): void {
    const { functionConcurrency, roleNamePrefix, permissionsBoundary } = this.settings;
    if (node instanceof iam.CfnRole) {
      if (permissionsBoundary && node.permissionsBoundary === undefined) node.permissionsBoundary = permissionsBoundary.managedPolicyArn;
      if (roleNamePrefix !== undefined && Stack.of(node).resolve(node.roleName) === undefined) {
        node.roleName = `${roleNamePrefix}${Names.uniqueResourceName(node, { maxLength: ROLE_NAME_MAX - roleNamePrefix.length })}`;
      }
    }
    if (node instanceof lambda.CfnFunction && functionConcurrency !== undefined && node.reservedConcurrentExecutions === undefined) {
      node.reservedConcurrentExecutions = functionConcurrency;
    }
  }
}

/** The problems with the settings (empty when they are fine); unresolved tokens are skipped. */
export function checkSettings(settings: DeploymentSettings): string[] {
  const out: string[] = [];
  const c = settings.functionConcurrency;
  if (c !== undefined && !Token.isUnresolved(c) && (!Number.isInteger(c) || c < 1)) {
    out.push(`\`functionConcurrency\` must be a whole number of at least 1, got: ${c}. Leave it unset for no reserved concurrency.`);
  }
  const p = settings.roleNamePrefix;
  if (p !== undefined && !Token.isUnresolved(p) && (!/^[\w+=,.@-]{1,32}$/.test(p))) {
    out.push(`\`roleNamePrefix\` must be 1-32 characters of letters, digits and + = , . @ _ -, got: '${p}'. Use e.g. 'app-'.`);
  }
  return out;
}

/** Applies the settings to every role and function under each scope (once per scope). */
export function applySettings(scopes: IConstruct[], settings: DeploymentSettings): void {
  if (settings.functionConcurrency === undefined && !settings.permissionsBoundary && settings.roleNamePrefix === undefined) return;
  const aspect = new ApplySettings(settings);
  for (const scope of new Set(scopes)) {
    if (scope === Stack.of(scope)) continue;
    Aspects.of(scope).add(aspect, { priority: AspectPriority.MUTATING });
  }
}
