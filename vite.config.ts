// Builds the React renderer (src/renderer) into dist/renderer: `vite build`.
// JSX uses React's automatic runtime through Vite 8's built-in oxc transform (Vite 8 deprecates the
// `esbuild` option in favour of `oxc`); no React plugin is needed for a production build.
import { defineConfig } from 'vite';

export default defineConfig({
  root: 'src/renderer',
  base: './',
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: '../../dist/renderer',
    emptyOutDir: true,
    target: 'es2022',
    // The CSP forbids inline scripts: keep every script in a file (no inlined module preload).
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: true,
  },
});
