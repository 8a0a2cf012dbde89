import Ajv2020 from 'ajv/dist/2020';
import standaloneCode from 'ajv/dist/standalone';

/**
 * Generates the standalone validator module of a stage at synth time: plain CommonJS exporting one
 * function per schema (`input`, `output`, ...). The Lambda loads it without compiling any schema.
 * `format` keywords are annotations only (no format validators are bundled).
 */
export function generateValidators(schemas: { [name: string]: object }): string {
  const ajv = new Ajv2020({
    code: { source: true, lines: false, optimize: true },
    allErrors: true,
    strict: false,
    validateFormats: false,
  });
  const exportsMap: { [name: string]: string } = {};
  // In name order, so the source (and the asset hash) does not depend on the order the caller used.
  for (const [name, schema] of Object.entries(schemas).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const id = `cdk-ai-pipeline:${name}`;
    const { $id: _ignored, ...rest } = schema as any;
    ajv.addSchema({ ...rest, $id: id });
    exportsMap[name] = id;
  }
  return standaloneCode(ajv, exportsMap);
}
