// Time as a dependency: windows, batching delays and cooldowns take a Clock so tests drive them
// with a fake one instead of sleeping.
export interface Clock {
  /** Milliseconds, monotonic, fractional. */
  now: () => number
  /** Milliseconds since the Unix epoch, for timestamps that leave the process. */
  wallNow: () => number
  setTimer: (fn: () => void, ms: number) => unknown
  clearTimer: (handle: unknown) => void
}

export const systemClock: Clock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  setTimer: (fn, ms) => setTimeout(fn, ms),
  clearTimer: (h) => { clearTimeout(h as NodeJS.Timeout) }
}
