import type { CompiledConfig } from '../config.js';
import type { Dependencies } from '../fingerprint.js';
import type { WorkerInit } from '../schema.js';

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
  /** Called when a command starts, with its pid (its process group) and the spawn helper's pid, if it runs in one. */
  readonly onSpawn?: (pid: number, helperPid?: number) => void;
  /** Called just before the worker itself spawns a command, whose pid is not known until the spawn returns. */
  readonly onSpawning?: () => void;
}
