import * as fs from 'fs';
import Ajv2020 from 'ajv/dist/2020';
import { ANY_OBJECT_SCHEMA, cloneSchema, DRAFT_2020_12 } from './schemas';

/**
 * A JSON Schema (draft 2020-12) for a stage's input or output.
 *
 * An input contract is written against the stage's view of the run: `{ document, results }`, where
 * `results.<StageId>` holds the output of each earlier stage. An output contract describes the object
 * the stage returns (it lands at `results.<StageId>`).
 *
 * The Pipeline checks at synth time that earlier stages satisfy each input contract, and the stage
 * handlers validate both contracts at run time with validators generated at synth time.
 */
export class StageContract {
  /**
   * A contract from a schema object.
   *
   * @param schema a JSON Schema (draft 2020-12); `$schema`, when present, must be draft 2020-12
   */
  public static fromObject(schema: { [key: string]: any }): StageContract {
    return new StageContract(schema, 'StageContract.fromObject');
  }

  /**
   * A contract from a JSON file holding a JSON Schema (draft 2020-12).
   *
   * @param file path to the `.json` schema file
   */
  public static fromFile(file: string): StageContract {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err: any) {
      throw new Error(`StageContract.fromFile: cannot read the schema file '${file}' (${err?.code ?? err}). Pass the path of an existing .json file, e.g. path.join(__dirname, 'schemas/x.schema.json').`);
    }
    let schema: unknown;
    try {
      schema = JSON.parse(text);
    } catch (err: any) {
      throw new Error(`StageContract.fromFile: '${file}' is not valid JSON (${err?.message}). The file must hold one JSON Schema object.`);
    }
    return new StageContract(schema as any, `StageContract.fromFile('${file}')`);
  }

  /** A contract that accepts any object: the stage declares nothing about its data. */
  public static anyObject(): StageContract {
    return new StageContract(cloneSchema(ANY_OBJECT_SCHEMA), 'StageContract.anyObject');
  }

  /** The JSON Schema, as given (a copy). */
  public readonly schema: { [key: string]: any };

  /** Where the contract came from, for messages. */
  public readonly source: string;

  private constructor(schema: { [key: string]: any }, source: string) {
    if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) {
      throw new Error(`${source}: a contract must be a JSON Schema object, got: ${JSON.stringify(schema)}. Pass an object such as { type: 'object', properties: { ... } }.`);
    }
    const declared = (schema as any).$schema;
    if (declared !== undefined && declared !== DRAFT_2020_12 && declared !== `${DRAFT_2020_12}#`) {
      throw new Error(`${source}: \`$schema\` must be '${DRAFT_2020_12}' (draft 2020-12), got: '${declared}'. Contracts are draft 2020-12 schemas; remove \`$schema\` or set it to draft 2020-12.`);
    }
    const type = (schema as any).type;
    if (type !== undefined && type !== 'object') {
      throw new Error(`${source}: a stage contract describes an object, so its \`type\` must be 'object', got: ${JSON.stringify(type)}.`);
    }
    const problem = metaSchemaProblem(schema);
    if (problem) {
      throw new Error(`${source}: the schema is not a valid draft 2020-12 JSON Schema: ${problem}. Fix the schema.`);
    }
    this.schema = cloneSchema(schema);
    this.source = source;
  }
}

/**
 * Checks a schema against the draft 2020-12 meta-schema. Only the meta-schemas live in this
 * validator (no user schema is ever added to it), so one per process is enough; the stage compiles
 * the schema itself once, when it generates its validators.
 */
let metaValidator: Ajv2020 | undefined;
function metaSchemaProblem(schema: object): string | undefined {
  metaValidator = metaValidator ?? new Ajv2020({ strict: false, validateFormats: false });
  return metaValidator.validateSchema(schema) ? undefined : metaValidator.errorsText(metaValidator.errors, { dataVar: 'schema' });
}
