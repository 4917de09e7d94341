#!/usr/bin/env -S node --v8-pool-size=1
// The `peerpbx` command. Runs the compiled bundle (dist/cli/bin/peerpbx.mjs, made by `npm run build`
// and `npm test`) when it is at least as new as every source file it was built from: it starts in
// about half the time and memory, as no TypeScript is transpiled at run time. Otherwise (a fresh
// clone, or a source edited since the build) it runs the TypeScript sources through tsx, so no
// build step is ever required and a stale bundle is never run. PEERPBX_TSX=1 forces the sources,
// PEERPBX_BUNDLE=1 the bundle (when built).
// The Node flag on the first line: V8's background pool defaults to 4 threads, each with its own
// malloc arena; one is plenty for a peer's ~10 MB heap and saves ~15 MB of resident memory
// (BENCHMARKS.md, Footprint). It applies when `peerpbx` is run as a program (npm's bin link);
// `node src/main/bin/peerpbx.js` runs with Node's defaults.
import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const bundle = join(root, 'dist', 'cli', 'bin', 'peerpbx.mjs');

/** Newest modification time (ms) of the .ts files under `dir`; a few ms for the ~200 sources. */
function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (!entry.isDirectory() && !entry.name.endsWith('.ts')) continue;
    const t = entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs;
    if (t > newest) newest = t;
  }
  return newest;
}

function bundleIsFresh() {
  if (process.env.PEERPBX_TSX === '1') return false;
  try {
    const built = statSync(bundle).mtimeMs;
    if (process.env.PEERPBX_BUNDLE === '1') return true; // tests of the bundle while sources change
    const sources = Math.max(newestMtime(join(root, 'src', 'core')), newestMtime(join(root, 'src', 'main')));
    return built >= sources;
  } catch {
    return false; // no bundle (or no sources next to it): run the sources
  }
}

if (bundleIsFresh()) {
  await import(pathToFileURL(bundle).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../headless/cli.ts');
}
