#!/usr/bin/env node
/**
 * The consumer test: the package as a new user meets it. It packs the
 * package as `npm publish` would, installs the tarball into a strict
 * TypeScript Fastify project (this folder's package.json, pinned by its
 * lockfile), then:
 *
 * - checks the package holds only what a user needs, ships no source map, and
 *   installs without a warning;
 * - checks that no declaration file reachable from the package's types imports
 *   another package's types than zod's and Node's: a strict consumer
 *   (`skipLibCheck: false`) type-checks every one it reaches;
 * - takes every code block of README.md, so the README cannot drift: each `ts`
 *   block becomes a module of the project, type-checked with this folder's
 *   tsconfig (strict, exactOptionalPropertyTypes, skipLibCheck false, NodeNext)
 *   by TypeScript 7 and 5; each `json` block is loaded with `loadProbeConfig`;
 *   each `npx auth-probe` line is run;
 * - runs the README's gateway against a fixture home under every Node given
 *   on the command line (default: this one), checks its answers, sends it
 *   SIGTERM and expects it to exit by itself; and runs the sharing example
 *   from another directory than its own.
 *
 * Usage: node test/consumer/run.mjs [path/to/node ...]
 * Prints `consumer: N passed, N failed`; exits 1 when a check failed. Works in
 * a temp dir, removed at the end.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../..');
const NODES = process.argv.length > 2 ? process.argv.slice(2).map((n) => resolve(n)) : [process.execPath];
/** Bare imports a public declaration file may make: a package whose types it re-exports (zod's schemas) and Node's. */
const ALLOWED_TYPE_IMPORTS = [/^zod$/, /^node:/];
/** What the package may contain: its compiled code, the schema, the README. */
const SHIPPED = [/^dist\/src\//, /^dist\/workers\//, /^schema\/[^/]+\.json$/, /^README\.md$/, /^package\.json$/, /^LICENSE$/];

const work = mkdtempSync(join(tmpdir(), 'auth-probe-consumer-'));
const project = join(work, 'project');
const home = join(work, 'home');
let passed = 0;
let failed = 0;

/** Runs one check, printing its outcome and time; a failure is counted, not thrown, so the other checks still run. */
async function check(name, fn) {
  const start = performance.now();
  try {
    await fn();
    passed++;
    console.log(`ok - ${name} (${((performance.now() - start) / 1000).toFixed(1)} s)`);
    return true;
  } catch (err) {
    failed++;
    console.log(`not ok - ${name}\n${String(err instanceof Error ? (err.stack ?? err.message) : err).replace(/^/gm, '    ')}`);
    return false;
  }
}

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

/** Runs a command to completion; its output is returned, and shown in the error when it fails. */
function run(command, args, options = {}) {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000, ...options });
  } catch (err) {
    throw new Error(`${command} ${args.join(' ')} failed (${err.status ?? err.signal}):\n${err.stdout ?? ''}${err.stderr ?? ''}`);
  }
}

/** The environment the examples run with: no variable of this machine's that a probe could read. */
function exampleEnv(node, extra = {}) {
  return { PATH: `${dirname(node)}:${process.env.PATH}`, HOME: home, ...extra };
}

/** README.md's fenced code blocks, each with its language and the `##` heading it sits under. */
function readmeBlocks() {
  const blocks = [];
  let heading = '';
  let open;
  for (const line of readFileSync(join(ROOT, 'README.md'), 'utf8').split('\n')) {
    if (open) {
      if (line.startsWith('```')) {
        blocks.push(open);
        open = undefined;
      } else open.lines.push(line);
    } else if (line.startsWith('```')) open = { lang: line.slice(3).trim(), heading, lines: [] };
    else if (line.startsWith('## ')) heading = line.slice(3).trim();
  }
  return blocks.map((b) => ({ lang: b.lang, heading: b.heading, code: `${b.lines.join('\n')}\n` }));
}

/** Follows a declaration file's relative imports; returns the bare specifiers each file imports. */
function declarationImports(entry) {
  const seen = new Set();
  const bare = [];
  const walk = (file) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const m of readFileSync(file, 'utf8').matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*)['"]([^'"]+)['"]/g)) {
      const spec = m[1];
      if (spec.startsWith('.')) walk(resolve(dirname(file), spec.replace(/\.js$/, '.d.ts')));
      else bare.push({ file, spec });
    }
  };
  walk(entry);
  return { files: seen.size, bare };
}

/** Starts a compiled example; resolves with its output and exit once it exits. */
function start(node, file, options) {
  const child = spawn(node, [file], { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise((res) => child.on('exit', (code, signal) => res({ code, signal })));
  return { child, output: () => out, exited };
}

/** Waits for `cond()` to hold, checking every 50 ms, for at most `ms` (a bound, not a measurement). */
async function until(cond, ms) {
  for (const end = Date.now() + ms; Date.now() < end; ) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return cond();
}

/** Waits for an exit, killing the process if it does not come within `ms`. */
async function exitWithin(proc, ms) {
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), ms);
  const result = await proc.exited;
  clearTimeout(timer);
  return result;
}

try {
  let tarball;
  await check('npm pack: the package holds only what a user needs, and no source map', () => {
    const [pack] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work], { cwd: ROOT }).replace(/^[^[]*/s, ''));
    tarball = join(work, pack.filename);
    const stray = pack.files.map((f) => f.path).filter((p) => !SHIPPED.some((re) => re.test(p)) || p.endsWith('.map'));
    console.log(`    ${pack.filename}: ${pack.entryCount} files, ${pack.size} B packed, ${pack.unpackedSize} B unpacked`);
    assert(stray.length === 0, `files a user does not need: ${stray.join(', ')}`);
  });

  await check('the tarball installs into an empty project without a warning', () => {
    // An empty project, so that every line npm prints is about this package and its dependencies.
    const bare = join(work, 'bare');
    mkdirSync(bare);
    writeFileSync(join(bare, 'package.json'), JSON.stringify({ name: 'bare', version: '0.0.0', private: true }));
    // npm prints its warnings on stderr: read both streams.
    const install = spawnSync('npm', ['install', '--no-audit', '--no-fund', tarball], { cwd: bare, encoding: 'utf8', timeout: 300_000 });
    const out = `${install.stdout}${install.stderr}`;
    assert(install.status === 0, `npm install ${tarball} failed:\n${out}`);
    const warnings = out.split('\n').filter((l) => /\bwarn\b/i.test(l));
    assert(warnings.length === 0, `npm printed:\n${warnings.join('\n')}`);
    const pkg = join(bare, 'node_modules/auth-probe-pool');
    // A compiled file that names a source map the package does not ship sends debuggers and bundlers looking for it.
    for (const js of ['dist/src/index.js', 'dist/src/cli.js']) {
      assert(!readFileSync(join(pkg, js), 'utf8').includes('sourceMappingURL'), `${js} names a source map the package does not ship`);
    }
  });

  await check('the consumer project: npm ci (Fastify, TypeScript, @types/node as its lockfile pins them), then the tarball', () => {
    mkdirSync(project);
    for (const f of ['package.json', 'package-lock.json', 'tsconfig.json']) copyFileSync(join(HERE, f), join(project, f));
    run('npm', ['ci', '--no-audit', '--no-fund'], { cwd: project });
    run('npm', ['install', '--no-save', '--no-audit', '--no-fund', tarball], { cwd: project });
  });

  await check("the package's declarations import no other package's types but zod's and Node's", () => {
    const pkg = join(project, 'node_modules/auth-probe-pool');
    const types = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')).exports['.'].types;
    const { files, bare } = declarationImports(join(pkg, types));
    const foreign = bare.filter(({ spec }) => !ALLOWED_TYPE_IMPORTS.some((re) => re.test(spec)));
    assert(foreign.length === 0, foreign.map(({ file, spec }) => `${file.slice(pkg.length + 1)} imports ${spec}`).join('\n'));
    console.log(`    ${files} declaration files reachable from ${types}`);
  });

  // Every README block goes into the project: ts blocks as modules, json blocks as files.
  const blocks = readmeBlocks();
  const modules = [];
  let gateway;
  let sharing;
  await check('README blocks: each ts block is a module of the project, each json block a file', () => {
    mkdirSync(join(project, 'src'));
    blocks.forEach((b, i) => {
      if (b.lang !== 'ts' && b.lang !== 'json') return;
      const slug =
        b.heading
          .toLowerCase()
          .replace(/[^a-z0-9]+/g, '-')
          .replace(/^-|-$/g, '') || 'top';
      // A block whose first line names its file (`// discord-adapter.js, in the worker thread`) is that file.
      const named = /^\/\/ ([\w.-]+)\.js\b/.exec(b.code);
      if (b.lang === 'ts') {
        const name = named ? named[1] : `readme-${String(i).padStart(2, '0')}-${slug}`;
        writeFileSync(join(project, 'src', `${name}.ts`), b.code);
        modules.push(name);
        if (b.heading.startsWith('A gateway')) gateway ??= name;
        if (b.code.includes('new Worker(')) sharing ??= name;
      } else {
        b.file = join(project, `readme-${String(i).padStart(2, '0')}-${slug}.json`);
        writeFileSync(b.file, b.code);
      }
    });
    assert(gateway !== undefined, 'no ts block under a "## A gateway…" heading');
    assert(sharing !== undefined, 'no ts block that starts a Worker');
    console.log(`    ${modules.length} ts blocks, ${blocks.filter((b) => b.lang === 'json').length} json blocks`);
  });

  await check('every ts block type-checks with TypeScript 7 (strict, exactOptionalPropertyTypes, skipLibCheck false, NodeNext) and compiles', () => {
    run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], { cwd: project });
  });
  await check('every ts block type-checks with TypeScript 5 too', () => {
    run(process.execPath, ['node_modules/typescript5/bin/tsc', '-p', 'tsconfig.json', '--noEmit'], { cwd: project });
  });

  await check('every json block is a valid probe configuration (or a valid probe), and its $schema file exists', () => {
    const config = blocks.find((b) => b.lang === 'json' && b.heading.startsWith('A gateway'));
    assert(config !== undefined, 'no probe configuration under the gateway example');
    // The gateway example loads ./auth-probes.json: the README's own configuration.
    copyFileSync(config.file, join(project, 'auth-probes.json'));
    for (const b of blocks.filter((x) => x.lang === 'json')) {
      const json = JSON.parse(b.code);
      // A whole configuration goes through loadProbeConfig, as a gateway's file would; a lone probe through ProbeSchema.
      const script =
        json.kind === undefined
          ? `import { loadProbeConfig } from 'auth-probe-pool'; loadProbeConfig(${JSON.stringify(b.file)});`
          : `import { readFileSync } from 'node:fs'; import { ProbeSchema } from 'auth-probe-pool'; ProbeSchema.parse(JSON.parse(readFileSync(${JSON.stringify(b.file)}, 'utf8')));`;
      run(process.execPath, ['--input-type=module', '-e', script], { cwd: project });
      if (json.$schema !== undefined) assert(existsSync(resolve(project, json.$schema)), `$schema ${json.$schema} does not exist in an installed project`);
    }
  });

  // The fixture: an API key in the env (openai), a profile in the agent's store (anthropic, through the
  // configuration's defaults), and no Codex login (openai-codex: no).
  mkdirSync(home);
  mkdirSync(join(project, 'agent'));
  writeFileSync(join(project, 'agent/auth-profiles.json'), JSON.stringify({ profiles: { 'anthropic:default': { type: 'api_key', provider: 'anthropic', key: 'sk-ant-fixture' } } }));

  await check("the README's `npx auth-probe` lines run (exit 0 or 1: auth found or not)", () => {
    const lines = blocks
      .filter((b) => b.lang === 'sh')
      .flatMap((b) => b.code.split('\n'))
      .filter((l) => l.startsWith('npx auth-probe'));
    assert(lines.length > 0, 'no `npx auth-probe` line in the README');
    for (const line of lines) {
      const args = line.replace(/#.*/, '').trim().split(/\s+/);
      try {
        execFileSync(args[0], args.slice(1), { cwd: project, env: exampleEnv(process.execPath, { OPENAI_API_KEY: 'sk-fixture' }), stdio: 'pipe', timeout: 60_000 });
      } catch (err) {
        assert(err.status === 1, `${line}: exit ${err.status ?? err.signal}\n${err.stdout}${err.stderr}`);
      }
    }
  });

  for (const node of NODES) {
    const version = run(node, ['--version']).trim();
    await check(`Node ${version}: the gateway answers from the fixture, then exits on SIGTERM`, async () => {
      const proc = start(node, `dist/${gateway}.js`, { cwd: project, env: exampleEnv(node, { PORT: '0', OPENAI_API_KEY: 'sk-fixture' }) });
      try {
        const listening = () => /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(proc.output());
        assert(await until(() => listening() !== null || proc.child.exitCode !== null, 60_000), `the gateway did not listen:\n${proc.output()}`);
        assert(listening() !== null, `the gateway exited before listening:\n${proc.output()}`);
        const models = await (await fetch(`${listening()[1]}/models`)).json();
        const providers = models.map((m) => m.provider).sort();
        assert(JSON.stringify(providers) === JSON.stringify(['anthropic', 'openai']), `/models answered providers ${JSON.stringify(providers)}, expected anthropic and openai`);
        // The pool logs through Fastify's app.log: its warm() entry is among the gateway's own lines.
        assert(/"lib":"auth-probe-pool".*"msg":"warm"/.test(proc.output()), `no pool entry in the gateway's log:\n${proc.output()}`);
        assert(!proc.output().includes('sk-fixture') && !proc.output().includes('sk-ant-fixture'), 'a secret reached the log');
        proc.child.kill('SIGTERM');
        // Generous: before the fix, the server went on answering for as long as it was let.
        const exit = await exitWithin(proc, 20_000);
        assert(exit.code === 0 && exit.signal === null, `after SIGTERM: ${JSON.stringify(exit)}\n${proc.output()}`);
      } finally {
        proc.child.kill('SIGKILL');
      }
    });

    await check(`Node ${version}: the sharing example runs from another directory than its own`, async () => {
      // From `work`, not `dist/`: the worker's file is found through import.meta.url, not the working directory.
      const proc = start(node, join(project, 'dist', `${sharing}.js`), { cwd: work, env: exampleEnv(node, { OPENAI_API_KEY: 'sk-fixture' }) });
      const exit = await exitWithin(proc, 60_000);
      assert(exit.code === 0 && exit.signal === null, `exit ${JSON.stringify(exit)}:\n${proc.output()}`);
      assert(/2\/2/.test(proc.output()), `the worker's warm() reported no progress:\n${proc.output()}`);
    });
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

console.log(`consumer: ${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 ? 0 : 1;
