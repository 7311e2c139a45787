/**
 * Taps: in-process listeners of what passes on a bus (`nimbus events tail`). A listener hears
 * each event once the bus has accepted it, after its targets have it; it can never change that
 * delivery: what it throws (or an async listener's rejection) is dropped, and it must return at
 * once (queue the event, do not process it here).
 */
import type { Envelope } from "./envelope.js";

export type TapListener = (event: Envelope) => void;

interface Tap {
  readonly listener: TapListener;
  readonly onEnd: (() => void) | undefined;
}

export class BusTaps {
  readonly #byBus = new Map<string, Set<Tap>>();

  /** Adds a listener of `bus`; the returned function removes it. `onEnd` is called if the bus stops first. */
  add(bus: string, listener: TapListener, onEnd?: () => void): () => void {
    const tap: Tap = { listener, onEnd };
    const taps = this.#byBus.get(bus) ?? new Set<Tap>();
    this.#byBus.set(bus, taps);
    taps.add(tap);
    return () => {
      taps.delete(tap);
      if (taps.size === 0 && this.#byBus.get(bus) === taps) this.#byBus.delete(bus);
    };
  }

  /** Hands `event` to every listener of `bus`; never throws. */
  emit(bus: string, event: Envelope): void {
    const taps = this.#byBus.get(bus);
    if (!taps) return;
    for (const { listener } of [...taps]) {
      try {
        const r = listener(event) as unknown;
        if (r instanceof Promise) r.catch(() => {});
      } catch {
        // A listener's failure is its own: delivery has happened and goes on.
      }
    }
  }

  /** Ends every tap (the bus is stopping), so that long-lived streams let the server close. */
  end(): void {
    const taps = [...this.#byBus.values()].flatMap((s) => [...s]);
    this.#byBus.clear();
    for (const { onEnd } of taps) {
      try {
        onEnd?.();
      } catch {}
    }
  }
}
