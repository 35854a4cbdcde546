import { errorData, type ErrorCode, type ErrorData } from '../errors.js';
import type { ProbeOutcome } from '../schema.js';

/** What one probe found: presence and metadata only, never a value. */
export interface Verdict {
  readonly outcome: ProbeOutcome['outcome'];
  readonly error?: ProbeOutcome['error'];
  readonly detail?: ProbeOutcome['detail'];
}

type Detail = NonNullable<ProbeOutcome['detail']>;

export const present = (detail?: Detail): Verdict => (detail ? { outcome: 'present', detail } : { outcome: 'present' });

/** A fact about the machine ("no such file"): may be cached as a lasting no. */
export const absent = (code: ErrorCode, message?: string, detail?: Detail): Verdict => ({
  outcome: 'absent',
  error: errorData(code, message),
  ...(detail ? { detail } : {}),
});

/** The probe itself failed: answers no for now, never cached as lasting. */
export const failed = (code: ErrorCode, message?: string, detail?: Detail): Verdict => ({
  outcome: 'error',
  error: errorData(code, message),
  ...(detail ? { detail } : {}),
});

/** A path that could not be resolved is an absence; one refused as unsafe is a failure worth seeing. */
export const unresolved = (error: ErrorData): Verdict =>
  error.code === 'E_TEMPLATE_UNRESOLVED' ? { outcome: 'absent', error } : { outcome: 'error', error };
