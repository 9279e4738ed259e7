// kafkajs' record batch decoder replaced by record-batch-decoder.ts (same output, a fraction of
// the CPU per record), for every kafkajs consumer of the thread that imports this module: the
// monitor's event consumers first of all, whose cost per event is mostly kafkajs' decoding.
//
// The swap works as kafkajs-fast-path.ts's does (a module put in require.cache), and needs
// exactly kafkajs 2.2.4. The one module that takes the decoder, fetch/v4/decodeMessages.js,
// loads with the first Fetch response (kafkajs requires its response decoders lazily), so this
// module may be imported after kafkajs itself, as long as nothing in the thread has fetched yet;
// otherwise nothing is replaced and `recordDecoder` says why: kafkajs then decodes as shipped,
// slower but the same.
import { createRequire } from 'node:module'
import { kafkajsMismatch, KAFKAJS_VERSION, putModule, type PatchStatus } from './kafkajs-pin.js'
import { createRecordBatchDecoder, recordBatchDeps } from './record-batch-decoder.js'

const require = createRequire(import.meta.url)

const BATCH_DECODER = 'kafkajs/src/protocol/recordBatch/v0/decoder.js'
/** The module that takes the batch decoder when it loads: once loaded, it is too late. */
const CAPTURER = 'kafkajs/src/protocol/requests/fetch/v4/decodeMessages.js'

function install (): PatchStatus {
  const mismatch = kafkajsMismatch('record decoder')
  if (mismatch !== null) return { active: false, reason: mismatch }
  try {
    if (require.cache[require.resolve(CAPTURER)] !== undefined) return { active: false, reason: `kafkajs had fetched before the record decoder was installed (${CAPTURER} loaded)` }
    putModule(require.resolve(BATCH_DECODER), createRecordBatchDecoder(recordBatchDeps()))
  } catch (err) {
    return { active: false, reason: `kafkajs internals not where expected: ${(err as Error).message}` }
  }
  return { active: true, reason: `record batch decoder of kafkajs ${KAFKAJS_VERSION} replaced` }
}

export const recordDecoder: PatchStatus = install()
