// Shard 4 of 4 of npm run test:unit (see shard.ts).
import { runShard } from './shard.js'

await runShard(4, 4)
