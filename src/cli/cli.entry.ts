import { parseVerifyArgs, runVerifyCommand } from './audit/command';
import { CAPACITY_USAGE, parseCapacityArgs, runCapacityCommand } from './capacity/command';
import { RunnerError } from './local/cloud-assembly';
import { parseArgs, runLocalCommand, USAGE } from './local/command';

// The runner calls no AWS service: the SDK's notice about future Node versions is noise here.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = ((warning: string | Error, ...rest: any[]) => {
  const type = typeof warning === 'string' ? (typeof rest[0] === 'string' ? rest[0] : rest[0]?.type) : warning.name;
  const text = typeof warning === 'string' ? warning : warning.message;
  if (type === 'NodeVersionSupportWarning' || /^NodeVersionSupportWarning\b/.test(text)) return;
  (emitWarning as any)(warning, ...rest);
}) as typeof process.emitWarning;

/** The `cdk-ai-pipeline` command line. Exit 0 when every document reached a terminal state. */
async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h') {
    process.stdout.write(USAGE + '\n\n' + CAPACITY_USAGE + '\n');
    return argv.length === 0 ? 2 : 0;
  }
  try {
    if (argv[0] === 'verify-audit') return await runVerifyCommand(parseVerifyArgs(argv));
    if (argv[0] === 'capacity') {
      runCapacityCommand(parseCapacityArgs(argv));
      return 0;
    }
    await runLocalCommand(parseArgs(argv));
    return 0;
  } catch (err: any) {
    if (err instanceof RunnerError || err?.name === 'RunnerError') {
      process.stderr.write(`cdk-ai-pipeline: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`cdk-ai-pipeline: unexpected error: ${err?.stack ?? err}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, () => { process.exitCode = 1; });
