// `npm run typecheck`: the whole project, plus the Electron shell where the electron package
// (and so its types) is installed. A plain `npm install` on a machine that cannot download
// Electron's binary removes the optional package; the shell is then type-checked in CI only.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const run = (project) =>
  spawnSync(process.execPath, [tsc, '--noEmit', '-p', project], { cwd: root, stdio: 'inherit' }).status;

let status = run('tsconfig.json');
const shell = join(root, 'src', 'main', 'electron');
const hasShell = existsSync(shell) && readdirSync(shell).some((f) => f.endsWith('.ts'));
if (hasShell && existsSync(join(root, 'node_modules', 'electron', 'electron.d.ts'))) {
  status ||= run('tsconfig.electron.json');
} else {
  console.log('electron is not installed: skipping the type check of src/main/electron');
}
process.exit(status ?? 1);
