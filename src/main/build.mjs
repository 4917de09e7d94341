// `npm run build`: the Electron shell (main + preload, bundled by esbuild into CommonJS, which a
// sandboxed preload requires) and the renderer (Vite). Native and optional modules stay external
// so electron-builder can rebuild them for Electron's ABI.
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
