// Runs fairgate evaluate in-process on the bundled model with a quick timing loop (tests assert
// numbers, never durations), optionally on a subset of rows written to a temporary file.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { validateConfig, type ConfigInput } from '../../src/config/index.js'
import { evaluate, type Evaluation } from '../../src/evaluate/index.js'
import { INCOME_DIR, MODELS_DIR, ROOT, silentLog, type DeepPartial } from './gateway.js'
import { readFileSync } from 'node:fs'

export function jsonlLines (file: string): string[] {
  return readFileSync(file, 'utf8').trim().split('\n')
}

/** Writes lines to a fresh temporary .jsonl file and returns its path. */
export function tempJsonl (lines: string[], name = 'rows.jsonl'): string {
  const file = join(mkdtempSync(join(tmpdir(), 'fg-eval-')), name)
  writeFileSync(file, lines.join('\n') + '\n')
  return file
}

export const EVAL_FILE = join(INCOME_DIR, 'eval.jsonl')
export const TRAIN_FILE = join(INCOME_DIR, 'train-sample.jsonl')

export async function runEvaluate (overrides: DeepPartial<ConfigInput> = {}, opts: { data?: string, trainSample?: string, weights?: string } = {}): Promise<Evaluation> {
  const config = validateConfig({ ...overrides, models: { dir: MODELS_DIR, warmup_runs: 1, ...overrides.models }, policy: { dir: join(ROOT, 'policies'), ...overrides.policy } })
  return await evaluate({ config, log: silentLog, data: opts.data, trainSample: opts.trainSample, weights: opts.weights, latency: { repeats: 5, maxMsPerSize: 20 } })
}
