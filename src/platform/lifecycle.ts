/**
 * The platform's components, started in order and stopped in reverse. A component that fails
 * to start stops the ones started before it (in reverse) and the start fails with its error:
 * a platform that could not start leaves no lock, connection, instance or directory behind.
 * Stopping goes on past a component that fails to stop, so that the ones after it (the store,
 * the lock) are still released.
 */
import type { Logger } from "../shared/logger.js";

export interface Component {
  /** Names the component in the platform's log when it fails. */
  readonly name: string;
  start?(): Promise<void> | void;
  stop?(): Promise<void> | void;
}

export class Lifecycle {
  readonly #components: Component[] = [];
  readonly #started: Component[] = [];
  readonly #logger: Logger;
  #stopping: Promise<void> | undefined;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** Adds a component and starts it (after every component added before it). */
  async add<T extends Component>(component: T): Promise<T> {
    this.#components.push(component);
    try {
      await component.start?.();
    } catch (err) {
      await this.stop().catch(() => {});
      throw err;
    }
    this.#started.push(component);
    return component;
  }

  /** Stops every started component, the last started first; a second call waits for the first. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      for (const c of this.#started.toReversed()) {
        try {
          await c.stop?.();
        } catch (err) {
          this.#logger.error(`could not stop ${c.name}`, { err });
        }
      }
      this.#started.length = 0;
    })();
    return this.#stopping;
  }

  /** The names of the started components, in start order (for tests and the debug log). */
  started(): string[] {
    return this.#started.map((c) => c.name);
  }
}
