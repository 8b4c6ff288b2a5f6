export { startRedisCluster, redisServerAvailable } from '../../bench/lib/redis-cluster.js'
export type { RedisCluster, RedisClusterOptions } from '../../bench/lib/redis-cluster.js'
