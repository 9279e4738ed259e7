// `fairgate evaluate`: the variants of a model scored offline through the gateway's runtime, the
// report written to --out, and with --check exit 1 when a variant breaks the policy's offline
// budgets (each breach printed naming the variant, the budget and the value).
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { loadConfig } from '../config/index.js'
import { FG_ERR_EVALUATE_ARGS } from '../errors.js'
import { evaluate, writeReport } from '../evaluate/index.js'
import { createLogger } from './logger.js'
import { progressBar } from './progress.js'

export const EVALUATE_USAGE = `usage: fairgate evaluate [--model M] [--data FILE] [--train-sample FILE]
                         [--weights accuracy=1,latency=0.5,gap=2,privacy=1] [--check] [--out DIR]
                         [--repeats N] [--config fairgate.yaml]`

/** Bounds of the timing loop: runs per batch size, and ms per batch size. */
const MAX_REPEATS = 10_000
const MS_PER_SIZE = 1_500

export async function evaluateCommand (argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string', short: 'c' },
      model: { type: 'string' },
      data: { type: 'string' },
      'train-sample': { type: 'string' },
      weights: { type: 'string' },
      check: { type: 'boolean' },
      out: { type: 'string' },
      repeats: { type: 'string' },
      help: { type: 'boolean', short: 'h' }
    },
    allowPositionals: false
  })
  if (values.help === true) { console.log(EVALUATE_USAGE); return 0 }
  const repeats = values.repeats === undefined ? 200 : Number(values.repeats)
  if (!Number.isInteger(repeats) || repeats < 5 || repeats > MAX_REPEATS) throw FG_ERR_EVALUATE_ARGS('--repeats', `must be an integer within [5, ${MAX_REPEATS}]`)
  const config = loadConfig({ file: values.config })
  // The runtime's own logs would interleave with the progress bar: warnings and errors only.
  const log = createLogger({ ...config, log: { level: config.log.level === 'info' ? 'warn' : config.log.level } }, { role: 'evaluate' })
  const out = resolve(values.out ?? 'fairgate-evaluate')
  const bar = progressBar()
  const started = performance.now()
  let result
  try {
    result = await evaluate({ config, log, model: values.model, data: values.data, trainSample: values['train-sample'], weights: values.weights, latency: { repeats, maxMsPerSize: MS_PER_SIZE }, progress: bar.update })
  } finally {
    bar.end()
  }
  const rep = result.report
  const command = ['fairgate evaluate', ...argv].join(' ')
  const files = writeReport(rep, out, command)
  const secs = ((performance.now() - started) / 1000).toFixed(1)
  console.error(`fairgate evaluate: ${rep.model}, ${Object.keys(rep.variants).length} variants, ${rep.data.rows} rows in ${secs} s; choice ${rep.choice.variant}; frontier ${rep.frontier.join(', ')}`)
  console.error(`fairgate evaluate: wrote ${files.join(', ')}`)
  if (values.check !== true) return 0
  if (rep.budgets === null) {
    console.error(`fairgate evaluate --check: the policy of ${rep.model} declares no offline budgets (offline: in ${config.policy.dir}); nothing to check`)
    return 2
  }
  for (const b of rep.breaches) console.error(`fairgate evaluate --check: ${b.message}`)
  if (rep.breaches.length > 0) return 1
  console.error(`fairgate evaluate --check: every variant of the policy is within ${Object.keys(rep.budgets).filter(k => k !== 'weights').map(k => `offline.${k}`).join(', ')}`)
  return 0
}
