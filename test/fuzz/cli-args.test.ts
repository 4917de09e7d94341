// Fuzzing `peerpbx`'s argument vectors. In process: the real commander program (buildProgram) with
// every action replaced by a recorder, so thousands of mutated vectors exercise the parsing and
// value checks (ports, hosts, peers, WAV files) without starting anything; each either parses or
// fails with exactly one `peerpbx: ...` line and a non-zero exit code, never another exception.
// Then a bounded sample runs as real processes (the mutated vectors the parser refused, and
// well-formed vectors with bad values that only the commands themselves can refuse): non-zero
// exit, one clear line on stderr, no stack trace.
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/processes.ts';
import { cliProblem, mutateArgv, parseInProcess } from './cli-target.ts';
import { iterations, saveRegression } from './harness.ts';
import { mulberry32 } from './mutator.ts';

const dir = tempDir('peerpbx-fuzz-cli-');
/** The real processes get a real (empty) folder instead of the in-process placeholder. */
const withRealDir = (argv: string[]) => argv.map((a) => a.replaceAll('/nonexistent/peerpbx-fuzz', dir));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('peerpbx argument vectors (fuzzed)', () => {
  const refused: string[][] = [];

  it('in process: every vector parses or fails with one line and a non-zero exit', () => {
    const rand = mulberry32(Number(process.env.FUZZ_SEED ?? 8));
    const n = iterations(3000);
    let parsed = 0;
    const problems: string[] = [];
    for (let i = 0; i < n; i++) {
      const argv = mutateArgv(rand);
      const o = parseInProcess(argv);
      if (o.parsed) parsed++;
      const problem = cliProblem(argv, o);
      if (problem) {
        saveRegression('cli', new TextEncoder().encode(JSON.stringify(argv)));
        problems.push(`${JSON.stringify(argv).slice(0, 200)}: ${problem}`);
      } else if (!o.parsed && o.exitCode !== 0 && refused.length < 200) refused.push(withRealDir(argv));
    }
    console.log(
      `cli fuzz: ${n} vectors, ${parsed} parsed, ${n - parsed} refused; problems ${problems.length}`,
    );
    expect(problems.slice(0, 10)).toEqual([]);
    expect(refused.length).toBeGreaterThan(20);
  });

  it('as real processes: refused vectors and bad values exit non-zero with one clear line', {
    timeout: 120_000,
  }, async () => {
    // Bad values only the commands themselves can refuse (the parser lets them through).
    const semantic: string[][] = [
      ['office', 'create', '--data', dir, '--name', 'Acme', '--extension', 'abc'],
      ['office', 'create', '--data', dir, '--name', '', '--extension', '100'],
      ['phone', 'add', '--data', dir, '--extension', '201', '--password', 'pw'],
      ['lookup', '--data', dir, '--extension', 'x'.repeat(5000)],
      ['status', '--data', `${dir}/\u00e4/missing`],
      ['run', '--data', dir, '--play', '/dev/null'],
    ];
    const rand = mulberry32(9);
    const sample = Array.from(
      { length: Math.min(4, refused.length) },
      () => refused[Math.floor(rand() * refused.length)],
    );
    const vectors = [...semantic, ...sample];
    const results = await Promise.all(vectors.map((argv) => runCli(argv, 60_000)));
    results.forEach((r, i) => {
      const what = `${JSON.stringify(vectors[i]).slice(0, 160)} -> code ${r.code}, stderr ${JSON.stringify(r.stderr.slice(0, 400))}`;
      console.log(what);
      expect(r.code, what).not.toBe(0);
      expect(r.code, what).not.toBeNull(); // not killed by the timeout: no hang
      const lines = r.stderr.split('\n').filter((l) => l.trim());
      expect(lines, what).toHaveLength(1);
      expect(lines[0], what).toMatch(/^peerpbx: \S/);
      expect(r.stderr, what).not.toMatch(/\n\s+at |Error: .*\n.*node:/);
    });
  });
});
