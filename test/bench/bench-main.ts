// How a benchmark file runs: main(), then every child process it started is reaped (also when it
// fails), and the exit code tells run.ts whether it completed.
import { killAll } from '../helpers/processes.ts';

export function runBench(main: () => Promise<void>): void {
  main().then(
    async () => {
      await killAll();
      process.exit(0);
    },
    async (e: unknown) => {
      console.error(e);
      await killAll();
      process.exit(1);
    },
  );
}
