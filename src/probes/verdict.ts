import { errorData, type ErrorCode, type ErrorData } from '../errors.js';
import type { ProbeOutcome } from '../config/schema.js';

/** What one probe found: presence and metadata only, never a value. */
export interface Verdict {
  readonly outcome: ProbeOutcome['outcome'];
  readonly error?: ProbeOutcome['error'];
  readonly detail?: ProbeOutcome['detail'];
  /** For a `present` resting on an expiry: when it stops being true, in ms since the epoch (skew taken off). */
  readonly validUntil?: number;
}

type Detail = NonNullable<ProbeOutcome['detail']>;

/** Found: true. `validUntil` (ms since the epoch) when the finding rests on an expiry and stops being true then. */
export const present = (detail?: Detail, validUntil?: number): Verdict => ({
  outcome: 'present',
  ...(detail ? { detail } : {}),
  ...(validUntil !== undefined ? { validUntil } : {}),
});

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

/** A file read or judgement that did not succeed: `lasting` (the file is missing, a field is absent) is an absence, otherwise a failure. */
export const fromRead = (error: ErrorData, lasting: boolean, detail?: Detail): Verdict => ({
  outcome: lasting ? 'absent' : 'error',
  error,
  ...(detail ? { detail } : {}),
});

/** A path that could not be resolved is an absence; one refused as unsafe is a failure worth seeing. */
export const unresolved = (error: ErrorData): Verdict => (error.code === 'E_TEMPLATE_UNRESOLVED' ? { outcome: 'absent', error } : { outcome: 'error', error });
