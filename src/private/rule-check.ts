import { IConstruct } from 'constructs';
import { lookupPath, typesOf } from './contract-check';
import { invalid } from './validation';
import { RuleCondition } from '../routing/rule-condition';

/**
 * Checks a named rule's condition against the schema of `results` (paths declared, compared as the
 * declared type, with values the contract allows) and adds the paths that may be absent to `optional`
 * (they get an IsPresent guard). Shared by the routing policy and the gates between stages.
 */
export function checkRuleCondition(
  scope: IConstruct, name: string, condition: RuleCondition, resultsSchema: { [key: string]: any }, optional: Set<string>,
): void {
  for (const use of condition.uses) {
    const found = lookupPath(resultsSchema, use.path);
    if (found.opaque) continue;
    if (!found.schema) {
      invalid(scope, `rule '${name}' reads '${use.path}', which no stage's output contract declares. Declare it in the output contract of stage '${use.path.split('.')[0]}', or fix the path.`);
    }
    if (!found.alwaysPresent) optional.add(use.path);
    const types = typesOf(found.schema);
    if (use.expects !== 'any' && types) {
      const ok = types.some((t) => t === use.expects || (use.expects === 'number' && t === 'integer'));
      if (!ok) {
        invalid(scope, `rule '${name}' compares '${use.path}' as a ${use.expects}, but its contract declares ${types.join(' or ')}. Use a ${types[0]} condition, or fix the contract.`);
      }
    }
    const allowed = found.schema.enum ?? ('const' in found.schema ? [found.schema.const] : undefined);
    if (allowed && use.values) {
      const never = use.values.filter((v) => !allowed.includes(v));
      if (never.length > 0) {
        invalid(scope, `rule '${name}' compares '${use.path}' with ${JSON.stringify(never)}, which its contract never allows (one of ${JSON.stringify(allowed)}). Fix the value.`);
      }
    }
  }
}
