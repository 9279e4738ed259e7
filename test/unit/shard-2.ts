// Shard 2 of 2 of npm run test:unit (see shard.ts).
import { runShard } from './shard.js'

await runShard(2, 2)
