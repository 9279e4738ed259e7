// Shard 2 of 4 of npm run test:unit (see shard.ts).
import { runShard } from './shard.js'

await runShard(2, 4)
