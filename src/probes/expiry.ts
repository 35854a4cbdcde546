/**
 * Judging a login against the clock, for the credential file and auth
 * profile probes. Times are milliseconds since the epoch throughout; a login
 * that expires within the pool's `expirySkewMs` counts as expired already, as
 * the gateway itself refreshes (or gives up on) a token that close to its end.
 */

/** How a credential file writes its expiry: ms or s since the epoch, or an ISO 8601 date. */
export type ExpiryUnit = 'ms' | 's' | 'iso';

const MAX_DATE_MS = 8.64e15;

/** An ISO 8601 date, at least `YYYY-MM-DD`: `Date.parse` alone accepts far looser text. */
const ISO_DATE = /^\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?$/;

/** The expiry in ms since the epoch, or undefined when the value is missing, of the wrong type, or not positive. */
export function expiryMs(value: unknown, unit: ExpiryUnit): number | undefined {
  let ms: number;
  if (unit === 'iso') {
    if (typeof value !== 'string' || !ISO_DATE.test(value.trim())) return undefined;
    ms = Date.parse(value.trim());
  } else {
    if (typeof value !== 'number') return undefined;
    ms = unit === 's' ? value * 1000 : value;
  }
  // Beyond ±8.64e15 ms a Date is invalid (and could not be shown as ISO): no real login expires there.
  return Number.isFinite(ms) && ms > 0 && ms <= MAX_DATE_MS ? ms : undefined;
}

/** The moment an answer resting on this expiry stops being true: the expiry less the skew, in ms since the epoch. */
export function validUntilOf(expiresAtMs: number, skewMs: number): number {
  return expiresAtMs - skewMs;
}

/** Whether a login expiring at `expiresAtMs` still counts now. */
export function stillValid(expiresAtMs: number, skewMs: number, nowMs: number = Date.now()): boolean {
  return validUntilOf(expiresAtMs, skewMs) > nowMs;
}

/** Words for an expiry in a message: the time as ISO, and whether it passed or falls within the skew. Never a token. */
export function describeExpiry(expiresAtMs: number, nowMs: number = Date.now()): string {
  const at = new Date(expiresAtMs).toISOString();
  return expiresAtMs <= nowMs ? `expired at ${at}` : `expires at ${at}, within the expiry skew`;
}
