#!/usr/bin/env node
// kuik, the operator's command line: `kubectl kuik …` (bin/kubectl-kuik), `npx kuik …`,
// `npm run kuik -- …`. See HELP in args.ts. Every failure ends as one line on stderr and a
// non-zero exit code (errors.ts); output goes to stdout, notes about it to stderr.
import { text } from 'node:stream/consumers';
import { errorMessage } from '#shared/errors.ts';
import { HELP, parseCommand } from './args.ts';
import { describeFailure } from './errors.ts';

export async function main(argv: readonly string[]): Promise<number> {
  // Notes (configuration used, warnings) are printed with a result, never with a failure: a
  // failure is exactly one line.
  const notes: string[] = [];
  const io = {
    warn: (line: string) => notes.push(line),
    stdin: () => text(process.stdin),
    env: process.env,
  };
  try {
    const cmd = parseCommand(argv);
    if (cmd.kind === 'help') {
      process.stdout.write(`${HELP}\n`);
      return 0;
    }
    // Loaded only now: a usage error or --help answers without loading the Kubernetes client.
    const { explain, preview } = await import('./commands.ts');
    const out = cmd.kind === 'explain' ? await explain(cmd, io) : await preview(cmd, io);
    for (const n of notes) process.stderr.write(`${n}\n`);
    process.stdout.write(`${out}\n`);
    return 0;
  } catch (err) {
    const { line, exitCode } = describeFailure(err);
    process.stderr.write(`${line}\n`);
    if (process.env['KUIK_DEBUG'])
      process.stderr.write(
        `${[...notes, (err instanceof Error ? err.stack : undefined) ?? errorMessage(err)].join('\n')}\n`,
      );
    return exitCode;
  }
}

process.exitCode = await main(process.argv.slice(2));
