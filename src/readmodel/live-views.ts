import type { NotificationHub } from './notification-hub.js';
import type { Notification } from './notifications.js';
import type { ReadModelAccess } from './read-model-access.js';

/** Told that a stream's view may have changed: up to `revision` when the notification says, else unknown. */
export type ViewChanged = (revision: bigint | undefined) => void;

interface Watcher {
  changed: ViewChanged;
  /** Ends the stream (the process shuts down). */
  end: () => void;
}

/**
 * The live queries' side of the notification hub: one hub listener for all the open streams of a process,
 * indexed by projection and stream, so a notification costs one lookup per stream it lists, not one call
 * per open stream. Batches of a generation that is not the active one (a rebuild) wake nobody.
 */
export class LiveViews {
  private readonly watchers = new Map<string, Map<string, Set<Watcher>>>();
  private readonly all = new Set<Watcher>();
  private readonly stopListening: () => void;
  private readonly stopReconnects: () => void;

  constructor(
    hub: NotificationHub,
    private readonly access: ReadModelAccess,
  ) {
    this.stopListening = hub.listen((notification) => this.notify(notification));
    // Notifications may have been lost while the subscriber reconnected: every stream looks again.
    this.stopReconnects = hub.onReconnect(() => {
      for (const watcher of this.all) watcher.changed(undefined);
    });
  }

  /** Open live streams in this process. */
  get open(): number {
    return this.all.size;
  }

  /** Watches the view of `stream` in `projection`; the answer stops watching (idempotent). */
  watch(projection: string, stream: string, changed: ViewChanged, end: () => void): () => void {
    let byStream = this.watchers.get(projection);
    if (byStream === undefined) {
      byStream = new Map();
      this.watchers.set(projection, byStream);
    }
    let watchers = byStream.get(stream);
    if (watchers === undefined) {
      watchers = new Set();
      byStream.set(stream, watchers);
    }
    const watcher: Watcher = { changed, end };
    watchers.add(watcher);
    this.all.add(watcher);
    return () => {
      if (!this.all.delete(watcher)) return;
      watchers.delete(watcher);
      if (watchers.size === 0) byStream.delete(stream);
    };
  }

  private readonly inFlight = new Map<string, Promise<unknown>>();

  /**
   * One read for every stream that wants the same answer at the same moment (ten tabs on one order, woken
   * by one notification): the first starts it, the others share it until it settles.
   */
  shared<T>(key: string, read: () => Promise<T>): Promise<T> {
    const running = this.inFlight.get(key);
    if (running !== undefined) return running as Promise<T>;
    const started = read().finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, started);
    return started;
  }

  /** Ends every open stream and stops listening (shutdown: the server can then close). */
  close(): void {
    this.stopListening();
    this.stopReconnects();
    for (const watcher of [...this.all]) watcher.end();
  }

  private notify(notification: Notification): void {
    const byStream = this.watchers.get(notification.projection);
    if (byStream === undefined) return;
    if (notification.kind === 'applied') {
      const active = this.access.knownGeneration(notification.projection);
      if (active !== undefined && notification.generation !== active) return; // a rebuild's batch
      if (notification.streams !== undefined) {
        for (const [stream, revision] of Object.entries(notification.streams)) {
          const watchers = byStream.get(stream);
          if (watchers !== undefined) for (const watcher of watchers) watcher.changed(BigInt(revision));
        }
        return;
      }
    }
    // A flip, or a batch of too many streams to list: every stream of the projection looks again.
    for (const watchers of byStream.values()) for (const watcher of watchers) watcher.changed(undefined);
  }
}
