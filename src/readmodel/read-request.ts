import type { ReadConnection, RedisCommands } from '../redis/index.js';
import { GENERATION_KEYS } from './keys.js';
import type { HubMark } from './notification-hub.js';
import type { Notification } from './notifications.js';
import type { ReadModelAccess } from './read-model-access.js';

export type Consistency = 'fresh' | 'stale';

/** A wait after a failed checkNow that has heard nothing it needs by then looks at Redis once (see waitFor). */
const UNHEARD_LOOK_MS = 100;
/** Longest pause between checks of a replica that a notification says is about to have the data. */
const REPLICA_RECHECK_MAX_MS = 50;

/** What a read of a projection must reflect: a position, and/or a stream at a revision. */
export interface Requirement {
  position?: bigint;
  stream?: { name: string; revision: bigint };
}

/** Where a request reads one projection: its active generation's keys on one connection. */
export interface ProjectionReadTarget {
  keyOf: (relativeKey: string) => string;
  redis: RedisCommands;
}

/**
 * What a query handler reads through: each projection it touches resolved to its active generation and to
 * one connection for the whole query (so a read-your-writes wait and the reads after it agree).
 */
export interface ReadContext {
  projection(name: string): Promise<ProjectionReadTarget>;
}

export interface Session extends ProjectionReadTarget {
  projection: string;
  generation: number;
  connection: ReadConnection;
}

/**
 * The reads of one query. Each projection it touches gets one connection (a replica, or the primary) for
 * the whole request: a wait checks the generation's checkpoint or stream version on that connection, and the
 * reads that follow on the same connection see at least that. A notification only says where to look: a
 * replica may get it before the data, so the wait checks the replica again until it has the data too.
 */
export class ReadRequest implements ReadContext {
  private readonly sessions = new Map<string, Promise<Session>>();
  /** The sessions already open, for checks that must be sent without waiting a turn. */
  private readonly opened = new Map<string, Session>();

  constructor(private readonly access: ReadModelAccess) {}

  /** Where to read a projection in this request (its active generation, on one connection). */
  projection(projection: string): Promise<ProjectionReadTarget> {
    return this.session(projection);
  }

  private session(projection: string): Promise<Session> {
    let session = this.sessions.get(projection);
    if (session === undefined) {
      const opened = this.openKnown(projection);
      session = opened === undefined ? this.open(projection) : Promise.resolve(opened);
      session.catch(() => this.sessions.delete(projection)); // a failed open is tried again on the next call
      this.sessions.set(projection, session);
    }
    return session;
  }

  /** The request's session of a projection, opened at once if its generation is known without asking Redis. */
  private knownSession(projection: string): Session | undefined {
    const session = this.opened.get(projection) ?? this.openKnown(projection);
    if (session !== undefined && !this.sessions.has(projection))
      this.sessions.set(projection, Promise.resolve(session));
    return session;
  }

  /** A session opened at once, when the active generation is known without asking Redis. */
  private openKnown(projection: string): Session | undefined {
    const generation = this.access.knownGeneration(projection);
    if (generation === undefined) return undefined;
    return this.opening(projection, this.connectionOf(projection), generation);
  }

  private async open(projection: string): Promise<Session> {
    const connection = this.connectionOf(projection);
    const generation = await this.access.activeGeneration(projection, connection.commands);
    return this.opening(projection, connection, generation);
  }

  private connectionOf(projection: string): ReadConnection {
    return this.access.redis.readConnection(this.access.keys.active(projection));
  }

  private opening(projection: string, connection: ReadConnection, generation: number): Session {
    const session = { projection, generation, connection, redis: connection.commands, keyOf: () => '' };
    this.opened.set(projection, session);
    return this.withGeneration(session, generation);
  }

  private withGeneration(session: Session, generation: number): Session {
    session.generation = generation;
    session.keyOf = this.access.generationKeys(session.projection, generation).keys.key;
    return session;
  }

  /**
   * Sends the checks of every requirement now, before anything else this request reads, and says whether all
   * are met; undefined when a check cannot be sent at once (a projection's generation is not known yet).
   * The reads a query makes after this call go out after the checks on the same connections, and one
   * connection keeps the order, so when this answers true they saw at least what was checked: a view that is
   * already fresh costs one round trip, not two. False (a requirement not met, or the generation not trusted)
   * means: wait with `waitFor`, then read again.
   *
   * Each check is one HMGET of the hash that holds what it compares and the generation's fault mark (see
   * `quickCheck`); the active pointer is not read here. The generation is the one a plain read would use (known
   * from a flip notification or read within the last second); a check that passes on it proves the reads
   * after it on that generation reflect the requirement, even if a flip is on its way. One that fails is
   * looked at again by `waitFor`, whose check reads the active pointer too.
   */
  checkNow(requirements: Map<string, Requirement>): Promise<boolean> | undefined {
    const sessions: Session[] = [];
    for (const projection of requirements.keys()) {
      const session = this.knownSession(projection);
      if (session === undefined) return undefined;
      sessions.push(session);
    }
    // What arrives from now on stands in for a second look, should a check fail (see waitFor).
    this.checkedAt = this.access.hub.mark();
    const checks: Array<Promise<boolean>> = [];
    for (const session of sessions) {
      quickCheck(this.access, session, requirements.get(session.projection) as Requirement, checks);
    }
    return checks.length === 1 ? checks[0]! : Promise.all(checks).then((each) => each.every((met) => met));
  }

  /**
   * For a query whose answer carries its own version of the stream a requirement names (every event of the
   * stream stamps it): true when the answer may speak for itself, that is when the projection's generation is
   * known without asking Redis and trusted (see `ReadModelAccess.trusts`). Then no check is sent: an answer at
   * or past the version asked for reflects it; one behind it (or none) means: wait with `waitFor`, then read
   * again. False: send the checks (`checkNow`).
   */
  answerSpeaksFor(projection: string): boolean {
    const session = this.knownSession(projection);
    if (session === undefined || !this.access.trusts(projection, session.generation)) return false;
    this.checkedAt = this.access.hub.mark(); // the read stands in for the check: a wait replays from here
    return true;
  }

  /** The hub when checkNow sent its checks: a wait after them needs only what arrived since. */
  private checkedAt: HubMark | undefined;

  /**
   * Waits until every projection named reflects its requirement, or the timeout: `fresh` or `stale`.
   * Woken by the projectors' notifications, never by polling, except for the short re-checks of a replica
   * that a notification says is about to have what the wait needs, and one look after UNHEARD_LOOK_MS when
   * checkNow (which does not read the active pointer) stood in for the first look.
   */
  waitFor(requirements: Map<string, Requirement>, timeoutMs: number): Promise<Consistency> {
    const { hub } = this.access;
    const pending = new Map(requirements);
    // After checkNow found these not met: what the hub received since its checks stands in for a first look.
    const checkedAt = this.checkedAt;
    this.checkedAt = undefined;
    return new Promise<Consistency>((resolve, reject) => {
      let settled = false;
      const timers = new Set<NodeJS.Timeout>();
      const finish = (outcome: Consistency | Error) => {
        if (settled) return;
        settled = true;
        stopNotifications();
        stopReconnects();
        for (const timer of timers) clearTimeout(timer);
        if (outcome instanceof Error) reject(outcome);
        else resolve(outcome);
      };
      const later = (ms: number, run: () => void) => {
        const timer = setTimeout(() => {
          timers.delete(timer);
          run();
        }, ms);
        timers.add(timer);
      };
      /** Looks at Redis; `backoffMs` > 0: a notification said it is there, so look again until it is. */
      const recheck = (
        projection: string,
        backoffMs = 0,
        onError = (error: unknown) => finish(error as Error),
      ) => {
        const requirement = pending.get(projection);
        if (requirement === undefined || settled) return;
        this.check(projection, requirement).then((met) => {
          if (settled || !pending.has(projection)) return;
          if (met) {
            pending.delete(projection);
            if (pending.size === 0) finish('fresh');
          } else if (backoffMs > 0) {
            later(backoffMs, () => recheck(projection, Math.min(backoffMs * 2, REPLICA_RECHECK_MAX_MS)));
          }
        }, onError);
      };
      const onNotification = (notification: Notification) => {
        const requirement = pending.get(notification.projection);
        if (requirement === undefined) return;
        void this.session(notification.projection).then((session) => {
          const reached = this.reachedBy(notification, requirement, session.generation);
          if (reached === false) return;
          if (reached === true && !session.connection.replica) {
            // The primary applied the batch before it published: nothing more to look at.
            pending.delete(notification.projection);
            if (pending.size === 0) finish('fresh');
            return;
          }
          recheck(notification.projection, reached === true ? 1 : 0);
        }, finish);
      };
      const stopNotifications = hub.listen(onNotification);
      // Notifications published while the subscriber was reconnecting are lost: look at Redis again
      // (a failed look here is no answer yet: Redis may be flapping, and the timeout still bounds the wait).
      const stopReconnects = hub.onReconnect(() => {
        for (const projection of pending.keys()) recheck(projection, 0, () => {});
      });
      later(timeoutMs, () => finish('stale'));
      const missed = checkedAt === undefined ? undefined : hub.since(checkedAt);
      if (missed === undefined) {
        for (const projection of pending.keys()) recheck(projection);
      } else {
        for (const notification of missed) onNotification(notification);
        // The check did not read the active pointer: a request on a generation that was flipped away without
        // its hearing (a restore or failover took the pointer back) would hear nothing for it. One look soon.
        later(UNHEARD_LOOK_MS, () => {
          for (const projection of pending.keys()) recheck(projection, 0, () => {});
        });
      }
    });
  }

  /**
   * True, false, or undefined when the notification says too little (a flip, a batch of too many streams
   * to list) and Redis must be asked.
   */
  private reachedBy(notification: Notification, requirement: Requirement, generation: number) {
    if (notification.kind === 'flipped') return undefined;
    if (notification.kind === 'untrusted') return false; // nothing is fresh from it; a flip will say more
    if (notification.generation !== generation) return false; // a rebuild's batch, or a flip not seen yet
    if (requirement.position !== undefined && BigInt(notification.position) < requirement.position)
      return false;
    if (requirement.stream !== undefined) {
      if (notification.streams === undefined) return undefined;
      const listed = notification.streams[requirement.stream.name];
      if (listed === undefined || BigInt(listed) < requirement.stream.revision) return false;
    }
    return true;
  }

  /**
   * One MULTI on the request's connection: the active pointer, the checkpoint (and whether the generation is
   * marked untrusted: then nothing is fresh) and the stream version the requirement names.
   */
  private async check(projection: string, requirement: Requirement): Promise<boolean> {
    const session = await this.session(projection);
    const met = await this.checkOn(session, requirement);
    if (met !== 'flipped') return met;
    return this.check(projection, requirement); // now on the new generation
  }

  /** The check itself, sent synchronously (see checkNow); 'flipped' when the session moved to a new generation. */
  private checkOn(session: Session, requirement: Requirement): Promise<boolean | 'flipped'> {
    const { keys: generationKeys, active } = this.access.generationKeys(
      session.projection,
      session.generation,
    );
    const multi = session.redis.multi().get(active).hmGet(generationKeys.checkpoint, ['position', 'fault']);
    if (requirement.stream !== undefined) multi.hGet(generationKeys.streamVersions, requirement.stream.name);
    return multi.exec().then((replies) => this.isMet(session, requirement, replies));
  }

  private isMet(session: Session, requirement: Requirement, replies: unknown): boolean | 'flipped' {
    const [active, checkpoint, version] = replies as [
      string | null,
      Array<string | null>,
      string | null | undefined,
    ];
    const generation = active === null || active === undefined ? 1 : Number(active);
    if (generation !== session.generation) {
      // Flipped since the request began: read the new generation from now on.
      this.access.remember(session.projection, generation);
      this.withGeneration(session, generation);
      return 'flipped';
    }
    const [position, fault] = checkpoint;
    if (!this.access.trustedBy(session.projection, generation, fault)) return false;
    if (requirement.position !== undefined && BigInt(position ?? '0') < requirement.position) return false;
    if (requirement.stream !== undefined) {
      if (version === null || version === undefined || BigInt(version) < requirement.stream.revision)
        return false;
    }
    return true;
  }
}

/**
 * Sends the checks of one requirement on the session's connection, each a single HMGET: a stream's version
 * with the stream-versions hash's fault field, a position with the checkpoint's `fault`. No MULTI around
 * them: what they compare only grows while the generation is trusted, so two that pass one after the other
 * both hold at the second (a Redis taken back in time can undo a check before the reads after it either way).
 */
const quickCheck = (
  access: ReadModelAccess,
  session: Session,
  requirement: Requirement,
  into: Array<Promise<boolean>>,
): void => {
  const { projection, generation } = session;
  const { keys } = access.generationKeys(projection, generation);
  const trusted = (fault: string | null | undefined) => access.trustedBy(projection, generation, fault);
  if (requirement.stream !== undefined) {
    const { revision } = requirement.stream;
    const fields = [requirement.stream.name, GENERATION_KEYS.streamVersionsFault];
    into.push(
      session.redis
        .hmGet(keys.streamVersions, fields)
        .then(([version, fault]) => trusted(fault) && atLeast(version, revision)),
    );
  }
  if (requirement.position !== undefined) {
    const { position } = requirement;
    into.push(
      session.redis
        .hmGet(keys.checkpoint, ['position', 'fault'])
        .then(([stored, fault]) => trusted(fault) && atLeast(stored ?? '0', position)),
    );
  }
};

const atLeast = (stored: string | null | undefined, required: bigint): boolean =>
  stored !== null && stored !== undefined && BigInt(stored) >= required;
