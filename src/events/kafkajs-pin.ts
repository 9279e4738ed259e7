// The one kafkajs release that fairgate's patches to kafkajs internals are written against
// (kafkajs-fast-path.ts, kafkajs-record-decoder.ts, kafkajs-request-queue.ts). package.json pins it exactly; a patch finds
// any other release installed and then stays out, leaving kafkajs as shipped.
import Module, { createRequire } from 'node:module'
import { dirname } from 'node:path'

const require = createRequire(import.meta.url)

export const KAFKAJS_VERSION = '2.2.4'

/** Whether a patch is in force, and why (not). */
export interface PatchStatus { active: boolean, reason: string }

/** null when the installed kafkajs is the pinned one; else why a patch must stay out. */
export function kafkajsMismatch (what: string): string | null {
  let version: string
  try {
    version = (require('kafkajs/package.json') as { version: string }).version
  } catch (err) {
    return `kafkajs/package.json not readable: ${(err as Error).message}`
  }
  return version === KAFKAJS_VERSION ? null : `kafkajs is ${version}; the ${what} is written for ${KAFKAJS_VERSION}`
}

/**
 * Makes `exports` what require(filename) returns from now on in this thread: kafkajs is CommonJS
 * and its modules take each other from require.cache, so a module put there before the one that
 * requires it loads is what that one gets.
 */
export function putModule (filename: string, exports: unknown): void {
  const m = new Module(filename)
  m.filename = filename
  m.paths = (Module as unknown as { _nodeModulePaths: (dir: string) => string[] })._nodeModulePaths(dirname(filename))
  m.exports = exports
  m.loaded = true
  require.cache[filename] = m
}
