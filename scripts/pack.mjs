#!/usr/bin/env node
// `make pack`: the artifacts a user installs, in dist/.
//  - hotpath-<version>.tgz, the npm package of the `hotpath` command: the CLI, server and core compiled
//    into one JavaScript bundle (tsx is not needed at run time), the built web UI, and the rideshare demo
//    with the Python SDK it imports. npm dependencies stay dependencies (the DuckDB binding is native).
//  - hotpath-<version>-py3-none-any.whl, the Python SDK (Debian's python3-build, no network).
// Staging happens in build/package; `npm pack` of that folder makes the tarball, with an
// npm-shrinkwrap.json pinning the dependency versions of the repository's package-lock.json.

import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const STAGE = join(REPO, 'build', 'package');
const OUT = join(REPO, 'dist');
const PYTHON = process.env.PYTHON || (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
/** Workspace packages compiled into the bundle; everything else a bundle imports stays a dependency. */
const BUNDLED = ['@hotpath/core', '@hotpath/server', '@hotpath/cli'];
/** Development-time only: the sources' loader, not needed by compiled JavaScript. */
const DEV_ONLY = new Set(['tsx']);
/** Files of the demo that a user of the package does not need (tests, containers, CI samples). */
const DEMO_SKIP =
  /(^|\/)(tests|ci|grafana-provisioning|__pycache__|data)(\/|$)|Dockerfile|docker-compose|\.pyc$/;
const keep = (src) => !DEMO_SKIP.test(src.slice(REPO.length));

const readJson = (path) => JSON.parse(readFileSync(join(REPO, path), 'utf8'));
const run = (cmd, args, cwd = REPO) =>
  execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'] }).toString();

/** The npm dependencies of the bundled workspaces, with the version ranges they declare. */
function runtimeDependencies() {
  const deps = {};
  for (const dir of ['core', 'server', 'cli']) {
    for (const [name, range] of Object.entries(readJson(`packages/${dir}/package.json`).dependencies ?? {})) {
      if (BUNDLED.includes(name) || DEV_ONLY.has(name)) continue;
      if (deps[name] !== undefined && deps[name] !== range)
        throw new Error(`${name} is declared as ${deps[name]} and ${range}: make the workspaces agree`);
      deps[name] = range;
    }
  }
  return Object.fromEntries(Object.entries(deps).sort(([a], [b]) => a.localeCompare(b)));
}

/** Bare imports other than the workspaces are left to node_modules at run time. */
const externalPackages = {
  name: 'external-packages',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('node:')) return { external: true };
      if (BUNDLED.some((p) => args.path === p || args.path.startsWith(`${p}/`))) return undefined;
      return { path: args.path, external: true };
    });
  },
};

async function bundle() {
  await build({
    absWorkingDir: REPO,
    entryPoints: {
      hotpath: 'packages/cli/src/bin.ts',
      // flame-pool.ts starts its workers from ./flame-worker.mjs beside the module that runs it
      'flame-worker': 'packages/server/src/query/flame-worker.ts',
    },
    outdir: join(STAGE, 'dist'),
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    banner: { js: '#!/usr/bin/env node' },
    plugins: [externalPackages],
    logLevel: 'warning',
  });
}

function copyAssets() {
  const ui = join(REPO, 'packages', 'ui', 'dist');
  if (!existsSync(join(ui, 'index.html'))) run('npm', ['run', 'build', '-w', 'packages/ui', '--silent']);
  cpSync(ui, join(STAGE, 'ui'), { recursive: true });
  cpSync(join(REPO, 'examples', 'rideshare'), join(STAGE, 'examples', 'rideshare'), {
    recursive: true,
    filter: keep,
  });
  cpSync(join(REPO, 'sdk', 'python', 'hotpath'), join(STAGE, 'sdk', 'python', 'hotpath'), {
    recursive: true,
    filter: keep,
  });
  cpSync(join(REPO, 'packages', 'cli', 'README.md'), join(STAGE, 'README.md'));
}

function writeManifest() {
  const cli = readJson('packages/cli/package.json');
  const manifest = {
    name: 'hotpath',
    version: cli.version,
    description: 'Hotpath: continuous profiling server, web UI and CLI, compatible with Grafana Pyroscope',
    license: 'Apache-2.0',
    type: 'module',
    bin: { hotpath: 'dist/hotpath.mjs' },
    engines: readJson('package.json').engines,
    dependencies: runtimeDependencies(),
  };
  writeFileSync(join(STAGE, 'package.json'), JSON.stringify(manifest, null, 2) + '\n');
  // Pin what the repository's tests ran with: npm keeps the lock's versions that still satisfy the
  // manifest and drops the rest (the workspaces, development tools).
  cpSync(join(REPO, 'package-lock.json'), join(STAGE, 'package-lock.json'));
  run(
    'npm',
    ['install', '--package-lock-only', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund'],
    STAGE,
  );
  renameSync(join(STAGE, 'package-lock.json'), join(STAGE, 'npm-shrinkwrap.json'));
  return manifest;
}

async function main() {
  rmSync(STAGE, { recursive: true, force: true });
  mkdirSync(STAGE, { recursive: true });
  mkdirSync(OUT, { recursive: true });
  await bundle();
  copyAssets();
  const manifest = writeManifest();
  const tarball = run('npm', ['pack', '--silent', '--pack-destination', OUT], STAGE).trim().split('\n').pop();
  process.stdout.write(`${join(OUT, tarball)}\n`);

  const pyproject = readFileSync(join(REPO, 'sdk', 'python', 'pyproject.toml'), 'utf8');
  const version = /^version = "([^"]+)"/m.exec(pyproject)?.[1];
  // Built from a copy: setuptools leaves build/ and hotpath.egg-info beside the sources, and an
  // egg-info in sdk/python makes pytest load the SDK's plugin twice in the repository's own tests.
  const sdk = join(REPO, 'build', 'sdk-python');
  rmSync(sdk, { recursive: true, force: true });
  for (const entry of ['pyproject.toml', 'README.md', 'hotpath'])
    cpSync(join(REPO, 'sdk', 'python', entry), join(sdk, entry), { recursive: true, filter: keep });
  run(PYTHON, ['-m', 'build', '--wheel', '--no-isolation', '--outdir', OUT, sdk]);
  process.stdout.write(`${join(OUT, `hotpath-${version}-py3-none-any.whl`)}\n`);
  if (version !== manifest.version)
    process.stderr.write(`note: the SDK is ${version}, the npm package ${manifest.version}\n`);
}

await main();
