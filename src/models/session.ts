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

export async function openSession (file: string, cfg: Config['models'], log: Logger): Promise<OpenedSession> {
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
