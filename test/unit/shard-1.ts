// Shard 1 of 4 of npm run test:unit (see shard.ts).
import { runShard } from './shard.js'

await runShard(1, 4)
