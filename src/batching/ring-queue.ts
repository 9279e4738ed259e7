// A fixed ring of slots, as in undici's hot path: push/shift without allocation or the O(n)
// Array#shift. Capacity is a power of two so wrap-around is a mask.
export class RingQueue<T> {
  private readonly items: Array<T | undefined>
  private readonly mask: number
  private head = 0
  private tail = 0

  constructor (minCapacity: number) {
    let cap = 16
    while (cap < minCapacity) cap *= 2
    this.items = new Array<T | undefined>(cap).fill(undefined)
    this.mask = cap - 1
  }

  get length (): number { return (this.tail - this.head) & this.mask }
  get capacity (): number { return this.mask }

  /** False when full: the caller decides what full means (429), the queue never grows. */
  push (item: T): boolean {
    const next = (this.tail + 1) & this.mask
    if (next === this.head) return false
    this.items[this.tail] = item
    this.tail = next
    return true
  }

  peek (): T | undefined { return this.items[this.head] }

  shift (): T | undefined {
    if (this.head === this.tail) return undefined
    const item = this.items[this.head]
    this.items[this.head] = undefined
    this.head = (this.head + 1) & this.mask
    return item
  }
}
