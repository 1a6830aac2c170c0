#!/usr/bin/env node
// kuik, the operator's command line: `kubectl kuik …` (bin/kubectl-kuik), `npx kuik …`,
// `npm run kuik -- …`. See HELP in args.ts. Every failure ends as one line on stderr and a
// non-zero exit code (errors.ts); output goes to stdout, notes about it to stderr.
import { text } from 'node:stream/consumers';
import { HELP, parseCommand } from './args.ts';
import { explain, preview } from './commands.ts';
import { describeFailure } from './errors.ts';

export async function main(argv: readonly string[]): Promise<number> {
  const io = {
    warn: (line: string) => process.stderr.write(`${line}\n`),
    stdin: () => text(process.stdin),
    env: process.env,
  };
  try {
    const cmd = parseCommand(argv);
    if (cmd.kind === 'help') {
      process.stdout.write(`${HELP}\n`);
      return 0;
    }
    const out = cmd.kind === 'explain' ? await explain(cmd, io) : await preview(cmd, io);
    process.stdout.write(`${out}\n`);
    return 0;
  } catch (err) {
    const { line, exitCode } = describeFailure(err);
    process.stderr.write(`${line}\n`);
    if (process.env['KUIK_DEBUG']) process.stderr.write(`${(err as Error).stack ?? ''}\n`);
    return exitCode;
  }
}

process.exitCode = await main(process.argv.slice(2));
