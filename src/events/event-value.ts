// A consumed record's value as the event object it should hold, or null: a value that is not JSON,
// or JSON that is not an object, is counted and skipped by the consumer, never thrown into it
// (a content error from the broker or another producer must not block the pipeline).
export function eventValue (value: Buffer | null): object | null {
  let ev: unknown
  try {
    ev = JSON.parse(value?.toString() ?? '')
  } catch {
    return null
  }
  return ev === null || typeof ev !== 'object' ? null : ev
}
