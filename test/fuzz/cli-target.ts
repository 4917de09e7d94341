// The in-process CLI target: the real commander program (buildProgram) with every action replaced
// by a no-op, and a mutator over argument vectors of every command.
import { type Command, CommanderError } from 'commander';
import { buildProgram } from '../../src/main/headless/program.ts';
import { BOUNDARY_NUMBERS, mulberry32, type Rand } from './mutator.ts';
import type { FuzzTarget } from './targets.ts';

/** Well-formed vectors of every command; the folder is never touched (actions are no-ops). */
const dir = '/nonexistent/peerpbx-fuzz';
const SEEDS: string[][] = [
  [
    'office',
    'create',
    '--data',
    dir,
    '--name',
    'Acme',
    '--extension',
    '100',
    '--display-name',
    'Ann',
    '--passphrase',
    'pass phrase',
  ],
  ['office', 'invite', '--data', dir, '--extension', '101'],
  ['office', 'requests', '--data', dir, '--json'],
  ['office', 'approve', '--data', dir, '--request', 'r1'],
  [
    'join',
    '--data',
    dir,
    '--extension',
    '102',
    '--code',
    'ABCD',
    '--peer',
    '10.0.0.1:5070',
    '--display-name',
    'Bo',
  ],
  [
    'run',
    '--data',
    dir,
    '--bind',
    '127.0.0.1',
    '--sip-port',
    '5060',
    '--overlay-port',
    '0',
    '--http-port',
    '8080',
    '--peer',
    '[::1]:5070',
    '--peer',
    'host:1',
    '--auto-answer',
    '--record',
    dir,
  ],
  ['phone', 'add', '--data', dir, '--extension', '201', '--password', 'secret'],
  ['status', '--data', dir, '--json'],
  ['lookup', '--data', dir, '--extension', '101', '--json'],
  ['voicemail', 'list', '--data', dir, '--json'],
  ['voicemail', 'export', '--data', dir, 'id1', 'out.wav'],
];

const TOKENS = [
  '--data',
  '--name',
  '--extension',
  '--sip-port',
  '--overlay-port',
  '--http-port',
  '--bind',
  '--peer',
  '--play',
  '--record',
  '--code',
  '--json',
  '--help',
  '-h',
  '--version',
  '-V',
  '--',
  '-',
  '--=',
  '--sip-port=',
  '---x',
  'run',
  'office',
  'create',
  'join',
  'phone',
  'add',
  'status',
  'lookup',
  'voicemail',
  'export',
  '',
  ' ',
  '\u0000',
  '\n',
  'ä',
  '%s',
  '$(id)',
  '../../etc/passwd',
  '/dev/null',
  'host:',
  ':5060',
  '[::1]',
  '[::1]:',
  '999.999.999.999',
  '0.0.0.0',
  'x'.repeat(5000),
  '-1',
  'NaN',
  'Infinity',
  '0x1f',
  '1e3',
  ...BOUNDARY_NUMBERS,
];

export function mutateArgv(rand: Rand): string[] {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)];
  const argv = [...pick(SEEDS)];
  const n = 1 + Math.floor(rand() * 3);
  for (let k = 0; k < n; k++) {
    const i = Math.floor(rand() * (argv.length + 1));
    const r = rand();
    if (r < 0.3 && argv.length) argv[Math.min(i, argv.length - 1)] = pick(TOKENS);
    else if (r < 0.5) argv.splice(i, 0, pick(TOKENS));
    else if (r < 0.65 && argv.length) argv.splice(Math.min(i, argv.length - 1), 1);
    else if (r < 0.8 && argv.length) {
      const j = Math.min(i, argv.length - 1);
      const s = argv[j];
      const at = Math.floor(rand() * (s.length + 1));
      argv[j] = s.slice(0, at) + pick(TOKENS) + s.slice(at);
    } else if (argv.length > 1) {
      const j = Math.floor(rand() * argv.length);
      [argv[j], argv[argv.length - 1]] = [argv[argv.length - 1], argv[j]];
    }
  }
  return argv;
}

export interface Outcome {
  parsed: boolean;
  exitCode: number;
  stderr: string;
  other?: string;
}

/** Replaces every action with a no-op and captures output, on the command and all sub-commands. */
function recordingProgram(out: { err: string; out: string }): Command {
  const program = buildProgram();
  const walk = (c: Command) => {
    c.configureOutput({ writeErr: (s) => void (out.err += s), writeOut: (s) => void (out.out += s) });
    if (c.commands.length === 0) c.action(() => {});
    for (const sub of c.commands) walk(sub);
  };
  walk(program);
  return program;
}

export function parseInProcess(argv: string[]): Outcome {
  const out = { err: '', out: '' };
  const program = recordingProgram(out);
  try {
    program.parse(['node', 'peerpbx', ...argv]);
    return { parsed: true, exitCode: 0, stderr: out.err };
  } catch (e) {
    if (e instanceof CommanderError) return { parsed: false, exitCode: e.exitCode, stderr: out.err };
    return {
      parsed: false,
      exitCode: -1,
      stderr: out.err,
      other: e instanceof Error ? `${e.name}: ${e.message}` : String(e),
    };
  }
}

export const isHelp = (argv: string[]) =>
  argv.some((a) => ['--help', '-h', '--version', '-V', 'help'].includes(a));

/** Why this vector's outcome breaks the CLI's promise, or undefined. */
export function cliProblem(argv: string[], o: Outcome): string | undefined {
  const lines = o.stderr.split('\n').filter((l) => l.trim());
  if (o.other) return `threw ${o.other}`;
  if (!o.parsed && o.exitCode !== 0 && (lines.length !== 1 || !lines[0].startsWith('peerpbx: ')))
    return `stderr not one "peerpbx:" line: ${JSON.stringify(o.stderr.slice(0, 300))}`;
  if (!o.parsed && o.exitCode === 0 && !isHelp(argv)) return 'refused with exit code 0';
  return undefined;
}

/** Inputs are JSON argument vectors (so saved regressions are readable). */
export const cli: FuzzTarget = {
  name: 'cli',
  run(input) {
    const argv = JSON.parse(new TextDecoder().decode(input)) as string[];
    return cliProblem(argv, parseInProcess(argv));
  },
  inputs(seed) {
    const rand = mulberry32(seed);
    return () => new TextEncoder().encode(JSON.stringify(mutateArgv(rand)));
  },
};
