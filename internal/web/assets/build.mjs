// Builds bottega's dashboard assets into ../static/dist (or --outdir DIR),
// the directory internal/web embeds with go:embed.
//
// Output, for every entry point NAME.EXT:
//   NAME-HASH.EXT      minified bundle, HASH is esbuild's content hash
//   NAME-HASH.EXT.gz   the same bytes gzipped (level 9), served when the client accepts gzip
// plus LICENSES-HASH.txt (the licence texts of every bundled package) and
// manifest.json, which maps "app.js" → "app-HASH.js" and so on.
//
// The output is deterministic: the same sources and package-lock.json give the
// same bytes (no timestamps, sorted manifest, fixed gzip header). Only the .gz
// files may differ between machines, because zlib builds with SIMD may choose
// different (equally valid) encodings; scripts/build-assets.sh --check compares
// them by their decompressed content.
import * as esbuild from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));

function parseArgs(argv) {
	let outdir = resolve(here, '../static/dist');
	for (let i = 0; i < argv.length; i++) {
		if (argv[i] === '--outdir' && i + 1 < argv.length) {
			outdir = resolve(argv[++i]);
		} else {
			throw new Error(`build.mjs: unknown argument ${argv[i]} (usage: node build.mjs [--outdir DIR])`);
		}
	}
	return outdir;
}

// Packages whose code ends up in a bundle, with the files that carry their
// licence and notices. Apache-2.0 (ECharts, zrender) asks for the licence and
// NOTICE to travel with the code; the server can link to LICENSES-HASH.txt.
const licensed = [
	['htmx.org', ['LICENSE']],
	['echarts', ['LICENSE', 'NOTICE', 'licenses/LICENSE-d3']],
	['zrender', ['LICENSE']],
	['tslib', ['LICENSE.txt']],
];

function licenses() {
	const parts = ['Third-party software bundled in bottega\'s dashboard assets.\n'];
	for (const [pkg, files] of licensed) {
		const meta = JSON.parse(readFileSync(join(here, 'node_modules', pkg, 'package.json'), 'utf8'));
		parts.push(`\n${'='.repeat(72)}\n${pkg} ${meta.version} (${meta.license})\n${'='.repeat(72)}\n`);
		for (const f of files) {
			parts.push(`\n--- ${f} ---\n\n` + readFileSync(join(here, 'node_modules', pkg, f), 'utf8').trimEnd() + '\n');
		}
	}
	return parts.join('');
}

function gzip(buf) {
	const gz = gzipSync(buf, { level: 9 });
	// The header's MTIME is already 0; its OS byte depends on the platform
	// zlib was built for (3 on Unix, 19 on macOS, 10 on Windows): fix it.
	gz[9] = 3;
	return gz;
}

async function main() {
	const outdir = parseArgs(process.argv.slice(2));
	rmSync(outdir, { recursive: true, force: true });
	mkdirSync(outdir, { recursive: true });

	const result = await esbuild.build({
		absWorkingDir: here,
		entryPoints: ['src/app.js', 'src/charts.js', 'src/app.css'],
		entryNames: '[name]-[hash]',
		outdir,
		bundle: true,
		minify: true,
		format: 'iife',
		target: ['es2020', 'chrome91', 'firefox90', 'safari15'],
		legalComments: 'eof',
		charset: 'utf8',
		sourcemap: false,
		metafile: true,
		write: false,
		logLevel: 'warning',
		define: { 'process.env.NODE_ENV': '"production"', __DEV__: 'false' },
	});

	const manifest = {};
	const write = (name, hashed, bytes) => {
		manifest[name] = hashed;
		writeFileSync(join(outdir, hashed), bytes);
		writeFileSync(join(outdir, hashed + '.gz'), gzip(bytes));
	};

	for (const file of result.outputFiles) {
		const out = relative(here, file.path);
		const meta = result.metafile.outputs[out];
		if (!meta || !meta.entryPoint) {
			throw new Error(`build.mjs: unexpected output ${out}`);
		}
		write(basename(meta.entryPoint), basename(file.path), file.contents);
	}

	const text = Buffer.from(licenses(), 'utf8');
	const hash = createHash('sha256').update(text).digest('hex').slice(0, 8).toUpperCase();
	write('LICENSES.txt', `LICENSES-${hash}.txt`, text);

	const sorted = Object.fromEntries(Object.keys(manifest).sort().map((k) => [k, manifest[k]]));
	writeFileSync(join(outdir, 'manifest.json'), JSON.stringify(sorted, null, '\t') + '\n');

	for (const name of Object.keys(sorted)) {
		const bytes = readFileSync(join(outdir, sorted[name])).length;
		const gz = readFileSync(join(outdir, sorted[name] + '.gz')).length;
		console.log(`${name.padEnd(13)} ${sorted[name].padEnd(24)} ${String(bytes).padStart(8)} B  gzip ${String(gz).padStart(7)} B`);
	}
	const files = readdirSync(outdir).length;
	console.log(`build.mjs: wrote ${files} files to ${outdir}`);
}

main().catch((err) => {
	console.error(err.message || err);
	process.exit(1);
});
