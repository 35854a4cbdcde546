import type { CompiledConfig } from '../config/compile.js';
import type { Dependencies } from './fingerprint.js';
import type { WorkerInit } from '../config/schema.js';
import type { RunInHelper } from './spawn-client.js';

/** Everything a probe may consult; built by the worker per provider. */
export interface ProbeContext {
  readonly provider: string;
  readonly modelApi: string | undefined;
  readonly scope: { readonly agentDir?: string; readonly workspaceDir?: string; readonly agentId?: string };
  readonly env: Readonly<Record<string, string>>;
  readonly init: WorkerInit;
  readonly config: CompiledConfig;
  /** Paths the probes consulted, with their fingerprints; reported for change tracking. */
  readonly deps: Dependencies;
  /** Reads shared by the probes of one task (a database read once per task, not once per provider). */
  readonly memo?: Map<string, unknown>;
  /** With `spawnVia: 'worker'`: called when the worker starts a command, with its pid (its process group). */
  readonly onSpawn?: (pid: number) => void;
  /** With `spawnVia: 'worker'`: called just before the worker spawns a command, whose pid is not known until the spawn returns. */
  readonly onSpawning?: () => void;
  /** With `spawnVia: 'helper'`: runs a command in the pool's spawn helper, through the task's port. */
  readonly runInHelper?: RunInHelper;
}
