/**
 * Progress for sweeps that take more than a moment: a single line on stderr,
 * rewritten in place, shown only when stdout and stderr are terminals and the
 * sweep is still running after `delayMs`. Cleared before the result prints.
 */

export interface ProgressStream {
  readonly isTTY?: boolean;
  write(chunk: string): unknown;
}

/** Where `auth-probe` writes: results on stdout, progress and errors on stderr. */
export interface CliStreams {
  readonly stdout: ProgressStream;
  readonly stderr: ProgressStream;
}

export interface Progress {
  /** One more item is done. */
  tick(): void;
  /** Clears the line (if one was shown) and stops. */
  done(): void;
}

export function startProgress(options: {
  readonly total: number;
  readonly label: string;
  readonly stdout: ProgressStream;
  readonly stderr: ProgressStream;
  /** Milliseconds before the first line appears. */
  readonly delayMs?: number;
}): Progress {
  const { total, label, stderr } = options;
  if (!options.stdout.isTTY || !stderr.isTTY) return { tick() {}, done() {} };
  let count = 0;
  let shown = false;
  const draw = () => {
    shown = true;
    stderr.write(`\r\x1b[K${label} ${count}/${total}…`);
  };
  const timer = setTimeout(draw, options.delayMs ?? 250);
  timer.unref();
  return {
    tick() {
      count++;
      if (shown) draw();
    },
    done() {
      clearTimeout(timer);
      if (shown) stderr.write('\r\x1b[K');
      shown = false;
    },
  };
}
