// `npm run build`: the Electron shell (main + preload, bundled by esbuild into CommonJS, which a
// sandboxed preload requires) and the renderer (Vite). Native and optional modules stay external
// so electron-builder can rebuild them for Electron's ABI.
// `node src/main/build.mjs cli`: the `peerpbx` command as one ESM file (dist/cli/bin/peerpbx.mjs),
// so a peer starts without tsx transpiling ~200 TypeScript files (and its esbuild service) at run
// time. Packages stay external: Node loads them from node_modules as usual. The file sits three
// folders below the root, like src/main/headless, so paths taken from import.meta.url still resolve.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: true,
  logLevel: 'info',
  external: ['electron', 'better-sqlite3', 'cbor-extract', 'bufferutil', 'utf-8-validate'],
};

export const CLI_BUNDLE = join(root, 'dist/cli/bin/peerpbx.mjs');

async function buildCli() {
  await build({
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: 'linked',
    logLevel: 'warning',
    packages: 'external',
    entryPoints: [join(root, 'src/main/headless/cli.ts')],
    outfile: CLI_BUNDLE,
  });
}

async function buildElectron() {
  await build({
    ...common,
    entryPoints: [join(root, 'src/main/electron/main.ts')],
    outfile: join(root, 'dist/electron/main.cjs'),
  });
  await build({
    ...common,
    entryPoints: [join(root, 'src/main/electron/preload.ts')],
    outfile: join(root, 'dist/electron/preload.cjs'),
  });
}

const what = process.argv[2] ?? 'electron';
if (what === 'cli') await buildCli();
else await buildElectron();
