// Used only when fairgate runs from its .ts sources under tsx (the tests and the load tests): tsx
// does not register itself in worker threads, so this bootstrap registers it and loads the real
// worker. Built code (dist/) never comes here.
import { workerData } from 'node:worker_threads'
import { register } from 'tsx/esm/api'

register()
await import(workerData.__entry)
