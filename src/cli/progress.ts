// A progress bar on stderr: redrawn in place on a terminal, a line per stage otherwise (CI logs).
export function progressBar (stream: NodeJS.WriteStream = process.stderr): { update: (stage: string, done: number) => void, end: () => void } {
  let last = ''
  let drawn = 0
  const tty = stream.isTTY === true
  return {
    update (stage, done) {
      const pct = Math.round(Math.max(0, Math.min(1, done)) * 100)
      if (!tty) {
        if (stage !== last) stream.write(`fairgate evaluate: ${String(pct).padStart(3)}% ${stage}\n`)
        last = stage
        return
      }
      const now = Date.now()
      if (stage === last && now - drawn < 100 && pct < 100) return
      last = stage
      drawn = now
      const width = 30
      const full = Math.round(width * pct / 100)
      stream.write(`\r[${'#'.repeat(full)}${'.'.repeat(width - full)}] ${String(pct).padStart(3)}% ${stage.padEnd(36).slice(0, 36)}`)
    },
    end () { if (tty) stream.write('\n') }
  }
}
