import type { Logger } from 'pino';
import { redisFailureCause } from '../redis/index.js';
import type { ProjectorFailureCause } from './projector-options.js';
import { ReadModelStateLost } from './untrusted.js';

/** Why a runner cannot run its projection now (it cannot reach Redis, its state was lost…). */
export interface RunnerFault {
  cause: ProjectorFailureCause;
  message: string;
  since: number;
}

/** A fault that lasts is logged again this often (with its cause), not on every tick. */
const FAULT_LOG_EVERY_MS = 30_000;

/** The runner's failing tick, if any: logged once per cause (then every 30 s), counted, cleared on success. */
export class TickFault {
  private fault: RunnerFault | undefined;
  private lastLog = 0;

  constructor(
    private readonly projection: string,
    private readonly onFailure?: (cause: ProjectorFailureCause) => void,
    private readonly log?: Logger,
  ) {}

  get current(): RunnerFault | undefined {
    return this.fault;
  }

  failed(error: unknown): void {
    const cause: ProjectorFailureCause =
      error instanceof ReadModelStateLost ? 'lost-state' : redisFailureCause(error);
    const message = error instanceof Error ? error.message : String(error);
    const changed = this.fault?.message !== message;
    this.fault = { cause, message, since: changed || !this.fault ? Date.now() : this.fault.since };
    this.onFailure?.(cause);
    if (changed || Date.now() - this.lastLog >= FAULT_LOG_EVERY_MS) {
      this.lastLog = Date.now();
      this.log?.error(
        { projection: this.projection, cause, err: error },
        'projection cannot run: its runner failed; trying again',
      );
    }
  }

  recovered(): void {
    if (this.fault === undefined) return;
    this.log?.info({ projection: this.projection, after: this.fault.message }, 'projection runner recovered');
    this.fault = undefined;
  }
}
