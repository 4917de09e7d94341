#!/usr/bin/env node
// `npm start`: the Electron app where its binary is installed; otherwise the headless peer.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const require = createRequire(import.meta.url);

function electronBinary() {
  try {
    const bin = require('electron'); // the package exports the binary's path, or throws
    return typeof bin === 'string' && existsSync(bin) ? bin : null;
  } catch {
    return null;
  }
}

/** Builds the shell and the renderer once (`npm run build`); false when the build fails. */
function ensureBuilt(electronMain) {
  const renderer = join(root, 'dist', 'renderer', 'index.html');
  if (existsSync(electronMain) && existsSync(renderer)) return true;
  console.log('Building the desktop app (first start)...');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  return spawnSync(npm, ['run', 'build'], { cwd: root, stdio: 'inherit' }).status === 0;
}

const electron = electronBinary();
const electronMain = join(root, 'dist', 'electron', 'main.cjs');
if (electron && ensureBuilt(electronMain)) {
  const child = spawn(electron, [electronMain, ...process.argv.slice(2)], { stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 0));
} else {
  console.log(
    electron
      ? 'The desktop app could not be built: starting PeerPBX with its UI in your browser instead.'
      : 'Electron is not installed on this machine (its binary download failed): starting PeerPBX with its UI in your browser instead.',
  );
  const renderer = join(root, 'dist', 'renderer', 'index.html');
  if (!existsSync(renderer)) {
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    spawnSync(npm, ['run', 'build:renderer'], { cwd: root, stdio: 'inherit' });
  }
  const args = [join(root, 'src', 'main', 'bin', 'browser-app.js'), ...process.argv.slice(2)];
  const child = spawn(process.execPath, args, { stdio: 'inherit' });
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code) => process.exit(code ?? 0));
}
