// Reproducible build of Pinhole Web into dist/: one minified ES module and one stylesheet, named by
// the hash of their content (cached for a year), and index.html pointing at them (never cached).
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(fileURLToPath(import.meta.url));
const dist = join(root, 'dist');
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

const result = await build({
  entryPoints: { app: join(root, 'src/main.js'), style: join(root, 'src/style.css') },
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2021', 'chrome100', 'safari15', 'firefox100'],
  outdir: join(dist, 'assets'),
  entryNames: '[name]-[hash]',
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
});

const outputs = Object.keys(result.metafile.outputs).map((path) => basename(path));
const js = outputs.find((name) => name.startsWith('app-') && name.endsWith('.js'));
const css = outputs.find((name) => name.startsWith('style-') && name.endsWith('.css'));
const page = readFileSync(join(root, 'src/index.html'), 'utf8').replace('%JS%', `assets/${js}`).replace('%CSS%', `assets/${css}`);
writeFileSync(join(dist, 'index.html'), page);
copyFileSync(join(root, 'src/favicon.svg'), join(dist, 'favicon.svg'));
console.log(`web/dist: index.html, assets/${js}, assets/${css}`);
