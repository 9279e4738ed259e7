// One onnxruntime session per variant. CUDA is asked for only when configured, and a machine
// without it falls back to CPU with a warning rather than refusing to serve.
import ort from 'onnxruntime-node'
import type { Config } from '../config/index.js'
import { FG_ERR_MODEL_LAYOUT } from '../errors.js'
import type { Logger } from '../logger.js'

export type Provider = 'cpu' | 'cuda'

export type { Logger } from '../logger.js'

export interface OpenedSession {
  session: ort.InferenceSession
  provider: Provider
  /** How its scores are read (checkLayout). */
  plan: ReadPlan
}

/** What a session must have, from the manifest: its input (name, width) and output (name, column). */
export interface SessionIo { input: string, output: string, width: number, column?: number | undefined }

/** How the scores are read from the output tensor, decided once at load from the model itself. */
export interface ReadPlan {
  /** Values per row in the output: 1 ([N] or [N, 1]) or 2 ([N, 2]). */
  cols: number
  /** The column holding the positive class's probability. */
  column: number
}

/** The hint for skl2onnx's default export, whose probabilities are a sequence of maps. */
export const ZIPMAP_HINT = 'export with skl2onnx\'s options={id(model): {"zipmap": False}} (or options={"zipmap": False}) and name its float "probabilities" output in output.name'

const SCORE_TYPES = new Set(['float32', 'float64'])

function describe (m: ort.InferenceSession.ValueMetadata): string {
  if (!m.isTensor) return `${m.name} (not a tensor)`
  return `${m.name} [${m.shape.map(d => typeof d === 'number' && d >= 0 ? d : 'N').join(', ')}] ${m.type}`
}

/** Every input or output of a session, for messages: "X [N, 5] float32, label [N] int64". */
export function describeAll (list: readonly ort.InferenceSession.ValueMetadata[]): string {
  return list.length === 0 ? '(none)' : list.map(describe).join(', ')
}

const fixed = (d: number | string | undefined): d is number => typeof d === 'number' && d >= 0

/**
 * Checks a session against the manifest, at load, from the model's own metadata, so a variant
 * that does not fit fails with a reason instead of serving wrong scores or crashing on its first
 * batch. Accepted: one float32 input [N, input.width] named input.name; an output named
 * output.name of float32 or float64, shaped [N], [N, 1], or [N, 2] (read at output.column,
 * default 1). Each error names the manifest key it contradicts and lists what the model has.
 */
export function checkLayout (session: ort.InferenceSession, io: SessionIo): ReadPlan {
  const ins = session.inputMetadata
  const input = ins.find(m => m.name === io.input)
  if (input === undefined) throw FG_ERR_MODEL_LAYOUT('input.name', `the model has no input "${io.input}"; its inputs: ${describeAll(ins)}`)
  if (ins.length > 1) throw FG_ERR_MODEL_LAYOUT('input.name', `the model has ${ins.length} inputs (${describeAll(ins)}); the gateway feeds one [N, input.width] tensor`)
  if (!input.isTensor || input.type !== 'float32') throw FG_ERR_MODEL_LAYOUT('input.name', `input "${io.input}" is ${describe(input)}; the gateway sends float32 [N, input.width] (export with a float32 input)`)
  const ishape = input.shape
  if (ishape.length !== 2) throw FG_ERR_MODEL_LAYOUT('input.name', `input ${describe(input)} has rank ${ishape.length}; the gateway sends [N, ${io.width}]`)
  if (fixed(ishape[1]) && ishape[1] !== io.width) throw FG_ERR_MODEL_LAYOUT('input.width', `is ${io.width} but the model's input ${describe(input)} takes ${ishape[1]} columns; its inputs: ${describeAll(ins)}`)
  const outs = session.outputMetadata
  const out = outs.find(m => m.name === io.output)
  if (out === undefined) throw FG_ERR_MODEL_LAYOUT('output.name', `the model has no output "${io.output}"; its outputs: ${describeAll(outs)}`)
  if (!out.isTensor) throw FG_ERR_MODEL_LAYOUT('output.name', `output "${io.output}" is not a tensor (a ZipMap: a sequence of maps, class → probability); ${ZIPMAP_HINT}; the model's outputs: ${describeAll(outs)}`)
  if (!SCORE_TYPES.has(out.type)) throw FG_ERR_MODEL_LAYOUT('output.name', `output "${io.output}" is ${out.type}: a class label, not a probability; name a float32 or float64 probability output (the model's outputs: ${describeAll(outs)})`)
  const shape = out.shape
  const cols = shape.length === 2 ? shape[1] : 1
  if (shape.length === 0 || shape.length > 2 || (fixed(cols) && cols !== 1 && cols !== 2)) {
    throw FG_ERR_MODEL_LAYOUT('output.name', `output ${describe(out)}: the gateway reads [N], [N, 1] or [N, 2] (a binary classifier's probabilities)`)
  }
  if (cols === 2) return { cols: 2, column: io.column ?? 1 }
  if (io.column !== undefined && io.column !== 0) throw FG_ERR_MODEL_LAYOUT('output.column', `is ${io.column} but output ${describe(out)} has one column`)
  // A symbolic second dimension is taken as one column; the warm-up run checks the real size.
  return { cols: 1, column: 0 }
}

/**
 * Runs one batch and returns the score output only: a model's other outputs (skl2onnx's int64
 * label, a ZipMap that onnxruntime-node cannot return) are not fetched. onnxruntime-node 1.23
 * keys a fetched subset by the model's first output names instead of the fetched ones (asking
 * for `probabilities` of skl2onnx's [label, probabilities] answers `{label: <probabilities>}`),
 * so the one tensor returned is taken whatever its key.
 */
export async function runScores (session: ort.InferenceSession, io: SessionIo, input: ort.Tensor): Promise<ort.Tensor | undefined> {
  const out = await session.run({ [io.input]: input }, [io.output])
  if (out[io.output] !== undefined) return out[io.output]
  const values = Object.values(out)
  return values.length === 1 ? values[0] : undefined
}

/**
 * The scores of one run as float32, one per row: the tensor itself for float32 [N] / [N, 1],
 * else a copy of the plan's column (converted from float64). Any other size is an error naming
 * what the model gave, never rows read from the wrong place.
 */
export function scoresOf (t: ort.Tensor | undefined, io: SessionIo, plan: ReadPlan, rows: number): Float32Array {
  if (t === undefined) throw new Error(`no output "${io.output}"`)
  if (!SCORE_TYPES.has(t.type) || t.data.length !== rows * plan.cols) throw new Error(`output "${io.output}" is ${t.type} [${t.dims.join(', ')}]; expected ${rows} × ${plan.cols} float scores`)
  if (plan.cols === 1 && t.type === 'float32') return t.data as Float32Array
  const data = t.data as Float32Array | Float64Array
  const out = new Float32Array(rows)
  for (let r = 0; r < rows; r++) out[r] = data[r * plan.cols + plan.column] as number
  return out
}

export interface ModelIo { inputs: readonly ort.InferenceSession.ValueMetadata[], outputs: readonly ort.InferenceSession.ValueMetadata[] }

/** The inputs and outputs of an ONNX file, read by onnxruntime (for `fairgate init`). */
export async function inspectModel (file: string): Promise<ModelIo> {
  const session = await ort.InferenceSession.create(file, { executionProviders: ['cpu'] })
  try {
    return { inputs: session.inputMetadata, outputs: session.outputMetadata }
  } finally {
    await session.release().catch(() => {})
  }
}

/**
 * The output a score is read from, for a manifest not yet written: the first float tensor of
 * [N], [N, 1] or [N, 2] (skl2onnx's `probabilities`, not its int64 `label`).
 */
export function scoreOutput (outputs: readonly ort.InferenceSession.ValueMetadata[]): string | undefined {
  return outputs.find(m => m.isTensor && SCORE_TYPES.has(m.type) && m.shape.length >= 1 && m.shape.length <= 2 && (m.shape.length === 1 || !fixed(m.shape[1]) || m.shape[1] === 1 || m.shape[1] === 2))?.name
}

export async function openSession (file: string, cfg: Config['models'], log: Logger, io: SessionIo): Promise<OpenedSession> {
  const opened = await createSession(file, cfg, log)
  try {
    return { ...opened, plan: checkLayout(opened.session, io) }
  } catch (err) {
    await opened.session.release().catch(() => {})
    throw err
  }
}

async function createSession (file: string, cfg: Config['models'], log: Logger): Promise<Omit<OpenedSession, 'plan'>> {
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
