/**
 * The npm package ships `lib/` without the handler folders, `lib/runtime/` and `lib/cli/` (their
 * code ships bundled in `assets/`; see .npmignore). A construct that requires a module from one of
 * those folders at run time therefore breaks every installed copy, while the tests, which run from
 * `src/`, pass. This reads each shipped source file as TypeScript emits it (type-only imports are
 * dropped) and checks where its relative requires land.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';

const SRC = path.join(__dirname, '..', '..', 'src');
const NOT_SHIPPED = [/\/handler(\/|$)/, /^runtime(\/|$)/, /^cli(\/|$)/];
const notShipped = (rel: string) => NOT_SHIPPED.some((re) => re.test(rel)) || rel.endsWith('.entry.ts');

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

const shipped = sources(SRC).filter((f) => !notShipped(path.relative(SRC, f).split(path.sep).join('/')));

test('the package ships the constructs\' sources', () => {
  expect(shipped.map((f) => path.relative(SRC, f))).toEqual(expect.arrayContaining(['index.ts', path.join('pipeline', 'pipeline.ts')]));
});

test('no shipped module requires a module the package does not ship', () => {
  const problems: string[] = [];
  for (const file of shipped) {
    const js = ts.transpileModule(fs.readFileSync(file, 'utf8'), { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText;
    for (const m of js.matchAll(/require\("(\.{1,2}\/[^"]+)"\)/g)) {
      const target = path.relative(SRC, path.resolve(path.dirname(file), m[1])).split(path.sep).join('/');
      if (notShipped(target)) problems.push(`${path.relative(SRC, file)} requires ${m[1]} (src/${target}), which the package does not ship: move what it needs to src/shared`);
    }
  }
  expect(problems).toEqual([]);
});
