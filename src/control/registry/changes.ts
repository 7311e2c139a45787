/**
 * The registry's changes, told to whoever listens: the dispatcher retires instances and
 * applies reservations, provisioned concurrency follows aliases, the worker snapshots
 * published versions. Listeners are added after the registry exists, so nothing it tells of
 * has to exist before it.
 */
import type { FunctionVersion } from "../../protocol/function.js";
import type { FunctionLifecycle, RegistryEvents } from "./registry.js";

export class RegistryChanges implements RegistryEvents {
  readonly #listeners: Partial<RegistryEvents>[] = [];

  /** Adds a listener; each is told in the order added. */
  on(listener: Partial<RegistryEvents>): void {
    this.#listeners.push(listener);
  }

  retire(functionName: string, version?: string): void {
    for (const l of this.#listeners) l.retire?.(functionName, version);
  }

  reservationChanged(functionName: string, reserved: number | undefined): void {
    for (const l of this.#listeners) l.reservationChanged?.(functionName, reserved);
  }

  aliasChanged(functionName: string): void {
    for (const l of this.#listeners) l.aliasChanged?.(functionName);
  }

  lifecycle(change: FunctionLifecycle): void {
    for (const l of this.#listeners) l.lifecycle?.(change);
  }

  /** Settles once every listener's work has (PublishVersion answers after it). */
  async published(fn: FunctionVersion): Promise<void> {
    for (const l of this.#listeners) await l.published?.(fn);
  }
}
