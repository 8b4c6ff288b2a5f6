/**
 * Typed-array growth: doubling while small, then by a quarter, so a large table
 * carries at most 25% slack (metadata per stored page is a budget, not a detail).
 */
type TypedArray = Uint8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float64Array

export function grow<T extends TypedArray>(array: T, minLength: number, fill?: number): T {
  if (array.length >= minLength) return array
  let length = Math.max(16, array.length)
  while (length < minLength) length = length < 4096 ? length * 2 : Math.ceil(length * 1.25)
  const next = new (array.constructor as new (n: number) => T)(length)
  next.set(array)
  if (fill !== undefined) next.fill(fill, array.length)
  return next
}
