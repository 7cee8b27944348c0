import { clusterRedis } from './cluster';
import type { RedisOptions } from './connection';
import type { Redis } from './redis';
import { sentinelRedis } from './sentinel';
import { singleRedis } from './single';
import type { RedisTopology } from './topology';

export type { RedisOptions } from './connection';

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
