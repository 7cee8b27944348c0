import { randomUUID } from 'node:crypto';
import type { Redis } from '../redis/index.js';
import { releaseLeaseScript, renewLeaseScript } from './scripts.js';

/**
 * A lease in Redis (SET NX PX, renewed). Its token is the fencing token: the apply script refuses
 * batches from a process whose token is no longer the lease's value.
 */
export class Lease {
  private currentToken: string | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    readonly ttlMs: number,
  ) {}

  get token(): string {
    return this.currentToken ?? '';
  }

  get held(): boolean {
    return this.currentToken !== undefined;
  }

  /** Takes the lease when free; renews it when already ours. */
  async acquireOrRenew(): Promise<boolean> {
    if (this.currentToken !== undefined) {
      const renewed = await this.redis.runScript(
        renewLeaseScript,
        [this.key],
        [this.currentToken, String(this.ttlMs)],
      );
      if (renewed === 1) return true;
      this.currentToken = undefined;
      return false;
    }
    const token = randomUUID();
    const set = await this.redis.primary.set(this.key, token, {
      condition: 'NX',
      expiration: { type: 'PX', value: this.ttlMs },
    });
    if (set === 'OK') this.currentToken = token;
    return set === 'OK';
  }

  /** Forget the lease locally (it was lost). */
  drop(): void {
    this.currentToken = undefined;
  }

  async release(): Promise<void> {
    const token = this.currentToken;
    this.currentToken = undefined;
    if (token !== undefined) await this.redis.runScript(releaseLeaseScript, [this.key], [token]);
  }
}
