#!/usr/bin/env node
/**
 * The `auth-probe` executable (package.json `bin`). See src/cli/main.ts and
 * `auth-probe --help`.
 */
import { run } from './cli/main.js';

process.exitCode = await run(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env });
