import { clusterRedis } from './cluster.js';
import type { RedisOptions } from './connection.js';
import type { Redis } from './redis.js';
import { sentinelRedis } from './sentinel.js';
import { singleRedis } from './single.js';
import type { RedisTopology } from './topology.js';

export type { RedisOptions } from './connection.js';

/** The seam for a topology; nothing is connected until `connect()`. */
export const openRedis = (topology: RedisTopology, options: RedisOptions = {}): Redis => {
  switch (topology.kind) {
    case 'single':
      return singleRedis(topology.url, options);
    case 'sentinel':
      return sentinelRedis(topology, options);
    case 'cluster':
      return clusterRedis(topology, options);
  }
};
