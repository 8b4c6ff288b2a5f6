/** usemem's output lines, byte for byte (integer arithmetic as in output_statistics()). */

/** KB/s = ((bytes * 1e6) >> 10) / usecs, in unsigned long arithmetic. */
export function kbPerSec(bytes: number, usecs: number): number {
  if (usecs <= 0) return 0
  return Number(((BigInt(bytes) * 1000000n) >> 10n) / BigInt(usecs))
}

export function throughputLine(bytes: number, usecs: number, intro = ''): string {
  return `${intro}${bytes} bytes / ${usecs} usecs = ${kbPerSec(bytes, usecs)} KB/s`
}

export function initTimeLine(usecs: number): string {
  return `the initialization time is ${Math.floor(usecs / 1e6)} secs ${usecs % 1e6} usecs`
}

export function freeTimeLine(usecs: number): string {
  return `${usecs} usecs to free memory`
}
