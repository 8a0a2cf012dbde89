import { _ } from 'ajv';
import Ajv2020 from 'ajv/dist/2020';
import standaloneCode from 'ajv/dist/standalone';
import addFormats from 'ajv-formats';
import { formatNames } from 'ajv-formats/dist/formats';
import { VALIDATOR_RUNTIME_MODULES } from '../shared/types';

/** The module the generated code requires for `format` checks; the handler bundles carry it (src/runtime/contracts.ts). */
export const FORMATS_MODULE = 'ajv-formats/dist/formats';

/** The `format` values a contract may use: ajv-formats' full set (date-time, date, time, email, uri, uuid, ...). */
export const KNOWN_FORMATS: readonly string[] = [...formatNames].sort();

/**
 * Generates the standalone validator module of a stage at synth time: plain CommonJS exporting one
 * function per schema (`input`, `output`, ...). The Lambda loads it without compiling any schema.
 * `format` keywords are enforced with ajv-formats' full formats (the generated code requires
 * `ajv-formats/dist/formats`); an unknown format throws, naming it and the schema.
 */
export function generateValidators(schemas: { [name: string]: object }): string {
  let current = '';
  const ajv = new Ajv2020({
    code: { source: true, lines: false, optimize: true, formats: _`require(${FORMATS_MODULE}).fullFormats` },
    allErrors: true,
    strict: false,
    // With strict off ajv only warns on an unknown format (and then skips it): make that an error.
    logger: {
      log: () => undefined,
      warn: (...args: unknown[]) => {
        const text = args.map(String).join(' ');
        const unknown = /unknown format "([^"]*)"/.exec(text);
        if (unknown) {
          throw new Error(`unknown format '${unknown[1]}' in the ${current} contract; known formats: ${KNOWN_FORMATS.join(', ')}`);
        }
      },
      error: () => undefined,
    },
  });
  addFormats(ajv, { mode: 'full' });
  const exportsMap: { [name: string]: string } = {};
  // In name order, so the source (and the asset hash) does not depend on the order the caller used.
  for (const [name, schema] of Object.entries(schemas).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const id = `cdk-ai-pipeline:${name}`;
    const { $id: _ignored, ...rest } = schema as any;
    current = name;
    ajv.addSchema({ ...rest, $id: id });
    ajv.getSchema(id); // compile now, so an unknown format is named with its schema
    exportsMap[name] = id;
  }
  return checkRuntimeRequires(standaloneCode(ajv, exportsMap));
}

/**
 * Returns generated validator code whose every `require` is a module the handler bundles carry
 * (`VALIDATOR_RUNTIME_MODULES`); throws naming the one that is not, at synth rather than in Lambda.
 */
export function checkRuntimeRequires(source: string): string {
  for (const [, id] of source.matchAll(/require\("([^"]+)"\)/g)) {
    if (!VALIDATOR_RUNTIME_MODULES.includes(id)) {
      throw new Error(`the generated validators require ${id}, which the handler bundles do not carry (they carry ${VALIDATOR_RUNTIME_MODULES.join(', ')}). Simplify the contract, or report it as a bug of cdk-ai-pipeline`);
    }
  }
  return source;
}
