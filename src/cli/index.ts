#!/usr/bin/env node
// fairgate CLI: serve | monitor | evaluate | validate | init. Errors from configuration and start-up
// print their coded message and exit 1, never a stack trace for an operator's typo.
import { parseArgs } from 'node:util'
import { FairgateError } from '../errors.js'
import { EVALUATE_USAGE, evaluateCommand } from './evaluate.js'
import { init, INIT_USAGE } from './init.js'
import { monitor } from './monitor.js'
import { serve } from './serve.js'
import { validate } from './validate.js'

const USAGE = `usage: fairgate <command> [options]

commands:
  serve     [--config fairgate.yaml]   run the gateway (HTTP on :8080 by default)
  monitor   [--config fairgate.yaml]   aggregate every replica's events from Kafka
  evaluate  [--out DIR] [--check] …    offline report of the variants: accuracy, latency, fairness,
                                       privacy, their frontier and a weighted choice (docs/evaluate.md)
  validate  [--config fairgate.yaml]   dry run: load every manifest, model and policy, check them
                                       against each other, golden files and batching; exit 1 on any error
  init      --name NAME --data TABLE --label COLUMN ... FILE.onnx ...
                                       write models/NAME/model.yaml for a model of your own
                                       (fairgate init --help; docs/models.md)

Configuration: a YAML file (default fairgate.yaml, or FAIRGATE_CONFIG) overridden by FAIRGATE_*
environment variables, e.g. FAIRGATE_HTTP_PORT=9000 FAIRGATE_KAFKA_BROKERS=host:9092.

${EVALUATE_USAGE}`

async function main (argv: string[]): Promise<void> {
  const [command, ...rest] = argv
  // evaluate has options of its own; an exit code of 1 is a broken budget, 2 nothing to check.
  if (command === 'evaluate') { process.exitCode = await evaluateCommand(rest); return }
  if (command === 'init') {
    if (rest.includes('--help') || rest.includes('-h')) { console.log(INIT_USAGE); return }
    await init(rest)
    return
  }
  const { values } = parseArgs({ args: rest, options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: false })
  if (values.help === true || command === undefined || command === 'help' || command === '--help') {
    console.log(USAGE)
    return
  }
  switch (command) {
    case 'serve': return await serve({ config: values.config })
    case 'monitor': return await monitor({ config: values.config })
    case 'validate': return await validate({ config: values.config })
    default:
      console.error(`unknown command "${command}"\n\n${USAGE}`)
      process.exitCode = 2
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof FairgateError) console.error(`fairgate: ${err.code}: ${err.message}`)
  else console.error('fairgate: start-up failed:', err)
  process.exit(1)
})
