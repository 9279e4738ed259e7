// Used only when fairgate runs from its .ts sources under tsx (the load tests): tsx does not
// register itself in worker threads, so this bootstrap registers it and loads the real worker.
// Built code (dist/) and the tests (tap's loader is inherited by workers) never come here.
import { workerData } from 'node:worker_threads'
import { register } from 'tsx/esm/api'

register()
await import(workerData.__entry)
