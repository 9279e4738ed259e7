// Shard 1 of 2 of npm run test:unit (see shard.ts).
import { runShard } from './shard.js'

await runShard(1, 2)
