/**
 * Loads the user's own modules for the local runner (`--model`, `--function`): `file[#export]`,
 * JavaScript as it is, TypeScript compiled first with esbuild (the app's own, else ours).
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import { createRequire } from 'module';
import * as os from 'os';
import * as path from 'path';
import { RunnerError } from './cloud-assembly';

/** A `file[#export]` spec, resolved against a folder. */
export interface ModuleSpec {
  readonly file: string;
  readonly exportName: string;
}

/** Parses `file[#export]` (default export name given). */
export function parseModuleSpec(spec: string, baseDir: string, defaultExport: string): ModuleSpec {
  const hash = spec.lastIndexOf('#');
  const file = hash > 0 ? spec.slice(0, hash) : spec;
  const exportName = hash > 0 ? spec.slice(hash + 1) : defaultExport;
  return { file: path.resolve(baseDir, file), exportName };
}

const TS = /\.(?:ts|mts|cts|tsx)$/;

/**
 * A file Node can `require`: the file itself for JavaScript; for TypeScript, a CommonJS bundle of it
 * (its relative imports included, packages left to Node) made with esbuild, cached by content.
 */
export function runnableFile(file: string, what: string): string {
  if (!fs.existsSync(file)) throw new RunnerError(`${what}: ${file} does not exist`);
  if (!TS.test(file)) return file;
  const source = fs.readFileSync(file);
  const hash = createHash('sha256').update(file).update(source).digest('hex').slice(0, 16);
  const out = path.join(os.tmpdir(), 'cdk-ai-pipeline-modules', `${path.basename(file).replace(TS, '')}-${hash}.cjs`);
  const esbuild = findPackage('esbuild', path.dirname(file));
  if (!esbuild) {
    // Every TypeScript CDK app has the compiler: a module of one file is transpiled with it.
    const ts = findPackage('typescript', path.dirname(file));
    if (!ts) throw new RunnerError(`${what}: ${file} is TypeScript and neither esbuild nor typescript is installed; run 'npm i -D esbuild' in your app, or give a .js file`);
    const js = ts.transpileModule(source.toString('utf8'), {
      fileName: file,
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, inlineSourceMap: true },
    }).outputText;
    fs.mkdirSync(path.dirname(out), { recursive: true });
    // Its relative imports resolve from its own folder.
    fs.writeFileSync(out, `module.paths.unshift(${JSON.stringify(path.join(path.dirname(file), 'node_modules'))});\n${js}`);
    return out;
  }
  try {
    esbuild.buildSync({
      entryPoints: [file],
      outfile: out,
      bundle: true,
      packages: 'external',
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      sourcemap: 'inline',
      logLevel: 'silent',
    });
  } catch (err: any) {
    const first = err?.errors?.[0];
    const where = first?.location ? `${first.location.file}:${first.location.line}: ` : '';
    throw new RunnerError(`${what}: ${file} does not compile: ${where}${first?.text ?? err?.message}`);
  }
  return out;
}

function findPackage(name: string, fromDir: string): any {
  for (const base of [path.join(fromDir, 'noop.js'), path.join(process.cwd(), 'noop.js'), __filename]) {
    try {
      return createRequire(base)(name);
    } catch {
      // try the next place
    }
  }
  return undefined;
}

/** Loads a module's named export, which must be a function. */
export function loadFunction(spec: ModuleSpec, what: string): (...args: any[]) => unknown {
  const file = runnableFile(spec.file, what);
  let mod: any;
  try {
    mod = createRequire(file)(file);
  } catch (err: any) {
    throw new RunnerError(`${what}: loading ${spec.file} threw ${err?.name ?? 'an error'}: ${err?.message ?? err}`);
  }
  const fn = mod?.[spec.exportName] ?? (spec.exportName === 'default' ? mod : undefined);
  if (typeof fn !== 'function') {
    const exported = mod && typeof mod === 'object' ? Object.keys(mod).filter((k) => typeof mod[k] === 'function') : [];
    throw new RunnerError(`${what}: ${spec.file} exports no function '${spec.exportName}'${exported.length ? ` (it exports ${exported.join(', ')}; name one with #<export>)` : ''}`);
  }
  return fn;
}
