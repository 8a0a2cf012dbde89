// A jest transform for the ES modules of unpdf (pdf.js): esbuild turns them, and their import()
// calls, into CommonJS, so jest runs them without --experimental-vm-modules. Wired in .projenrc.ts.
const { transformSync } = require('esbuild');

module.exports = {
  process(source, filename) {
    const { code } = transformSync(source, {
      format: 'cjs',
      loader: 'js',
      target: 'node20',
      sourcefile: filename,
      supported: { 'dynamic-import': false },
    });
    return { code };
  },
};
