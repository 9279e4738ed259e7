// One onnxruntime session per variant. CUDA is asked for only when configured, and a machine
// without it falls back to CPU with a warning rather than refusing to serve.
import ort from 'onnxruntime-node'
import type { Config } from '../config/index.js'
import type { Logger } from '../logger.js'

export type Provider = 'cpu' | 'cuda'

export type { Logger } from '../logger.js'

export interface OpenedSession {
  session: ort.InferenceSession
  provider: Provider
}

/** The manifest's tensor names a session must have: one float32 input, one float32 score output. */
export interface SessionIo { input: string, output: string }

/**
 * Refuses a session whose layout the gateway cannot read, at load, so the variant fails with a
 * reason instead of its first batch failing (an int64 label output used to crash the process).
 * The output must be float32 of shape [N] or [N, 1]: one probability per row.
 */
export function checkLayout (session: ort.InferenceSession, io: SessionIo): void {
  const input = session.inputMetadata.find(m => m.name === io.input)
  if (input === undefined) throw new Error(`model has no input "${io.input}" (inputs: ${session.inputNames.join(', ')})`)
  if (input.isTensor && input.type !== 'float32') throw new Error(`input "${io.input}" is ${input.type}; the gateway sends float32`)
  const out = session.outputMetadata.find(m => m.name === io.output)
  if (out === undefined) throw new Error(`model has no output "${io.output}" (outputs: ${session.outputNames.join(', ')})`)
  if (!out.isTensor) throw new Error(`output "${io.output}" is not a tensor; the gateway reads float32 [N] or [N, 1]`)
  if (out.type !== 'float32') throw new Error(`output "${io.output}" is ${out.type}; the gateway reads float32 probabilities`)
  const shape = out.shape
  const fixed = (d: number | string | undefined): boolean => typeof d === 'number' && d >= 0
  if (shape.length > 2 || shape.length === 0 || (shape.length === 2 && fixed(shape[1]) && shape[1] !== 1)) {
    throw new Error(`output "${io.output}" has shape [${shape.join(', ')}]; the gateway reads [N] or [N, 1]`)
  }
}

/** The scores of one run: float32, one per row, or an error naming what the model gave instead. */
export function scoresOf (t: ort.Tensor | undefined, io: SessionIo, rows: number): Float32Array {
  if (t === undefined) throw new Error(`no output "${io.output}"`)
  if (t.type !== 'float32' || t.data.length !== rows) throw new Error(`output "${io.output}" is ${t.type} [${t.dims.join(', ')}]; expected ${rows} float32 scores`)
  return t.data as Float32Array
}

export async function openSession (file: string, cfg: Config['models'], log: Logger, io: SessionIo): Promise<OpenedSession> {
  const opened = await createSession(file, cfg, log)
  try {
    checkLayout(opened.session, io)
  } catch (err) {
    await opened.session.release().catch(() => {})
    throw err
  }
  return opened
}

async function createSession (file: string, cfg: Config['models'], log: Logger): Promise<OpenedSession> {
  const base: ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: cfg.intra_op_threads,
    interOpNumThreads: cfg.inter_op_threads,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential'
  }
  if (cfg.execution_provider === 'cuda') {
    try {
      const session = await ort.InferenceSession.create(file, { ...base, executionProviders: [{ name: 'cuda', deviceId: 0 }, 'cpu'] })
      return { session, provider: 'cuda' }
    } catch (err) {
      log.warn({ file, err: (err as Error).message }, 'CUDA execution provider unavailable, falling back to CPU')
    }
  }
  const session = await ort.InferenceSession.create(file, { ...base, executionProviders: ['cpu'] })
  return { session, provider: 'cpu' }
}

export { ort }
