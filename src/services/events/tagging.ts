/**
 * Tags of event buses and rules by ARN, as EventBridge's `TagResource`, `UntagResource` and
 * `ListTagsForResource` take them (Terraform reads a rule's and a bus's tags after each change).
 * A bus's ARN is `…:event-bus/<name>`; a rule's `…:rule/<name>` on the default bus and
 * `…:rule/<bus>/<name>` on another. At most 50 tags, keys of 1 to 128 characters, values of at
 * most 256; keys starting with `aws:` are reserved.
 */
import { notFound, validation } from "./errors.js";
import type { EventBusRecord, RuleRecord } from "./model.js";
import { DEFAULT_BUS, type EventsAccount } from "./names.js";
import type { EventsRepo } from "./repo.js";

type Input = Readonly<Record<string, unknown>>;
type Output = Record<string, unknown>;

const MAX_TAGS = 50;

type Tagged =
  | { readonly kind: "bus"; readonly bus: EventBusRecord }
  | { readonly kind: "rule"; readonly rule: RuleRecord };

export class EventTags {
  readonly #repo: EventsRepo;
  readonly #account: EventsAccount;
  readonly #now: () => number;

  constructor(repo: EventsRepo, account: EventsAccount, now: () => number) {
    this.#repo = repo;
    this.#account = account;
    this.#now = now;
  }

  async listTagsForResource(input: Input): Promise<Output> {
    const r = await this.#resource(input.ResourceARN);
    return { Tags: Object.entries(tagsOf(r)).map(([Key, Value]) => ({ Key, Value })) };
  }

  async tagResource(input: Input): Promise<Output> {
    const r = await this.#resource(input.ResourceARN);
    if (!Array.isArray(input.Tags)) throw validation("Tags must be a list of {Key, Value}.");
    const tags = { ...tagsOf(r) };
    for (const t of input.Tags as Array<{ Key?: unknown; Value?: unknown }>) {
      if (typeof t?.Key !== "string" || t.Key.length < 1 || t.Key.length > 128)
        throw validation("Each tag's Key must be a string of 1 to 128 characters.");
      if (t.Key.toLowerCase().startsWith("aws:"))
        throw validation(`Tag key ${t.Key} is reserved: keys starting with aws: are AWS's.`);
      if (typeof t.Value !== "string" || t.Value.length > 256)
        throw validation(`The value of tag ${t.Key} must be a string of at most 256 characters.`);
      tags[t.Key] = t.Value;
    }
    if (Object.keys(tags).length > MAX_TAGS)
      throw validation(
        `A resource has at most ${MAX_TAGS} tags; this would give it ${Object.keys(tags).length}.`,
      );
    await this.#store(r, tags);
    return {};
  }

  async untagResource(input: Input): Promise<Output> {
    const r = await this.#resource(input.ResourceARN);
    if (!Array.isArray(input.TagKeys) || !input.TagKeys.every((k) => typeof k === "string"))
      throw validation("TagKeys must be a list of tag keys.");
    const tags = { ...tagsOf(r) };
    for (const k of input.TagKeys as string[]) delete tags[k];
    await this.#store(r, tags);
    return {};
  }

  async #store(r: Tagged, tags: Record<string, string>): Promise<void> {
    const modifiedAt = this.#now();
    if (r.kind === "bus") await this.#repo.updateBus({ ...r.bus, tags, modifiedAt });
    else await this.#repo.putRule({ ...r.rule, tags, modifiedAt });
  }

  /** The bus or rule an ARN of this account names; ResourceNotFound if there is none. */
  async #resource(arn: unknown): Promise<Tagged> {
    const prefix = `arn:aws:events:${this.#account.region}:${this.#account.accountId}:`;
    if (typeof arn !== "string" || !arn.startsWith(prefix))
      throw validation(
        `ResourceARN ${JSON.stringify(arn ?? null)} is not an event bus or rule ARN of this account (${prefix}event-bus/<name> or ${prefix}rule/[<bus>/]<name>).`,
      );
    const rest = arn.slice(prefix.length);
    if (rest.startsWith("event-bus/")) {
      const name = rest.slice("event-bus/".length);
      const bus = await this.#repo.getBus(name);
      if (!bus) throw notFound(`Event bus ${name}`);
      return { kind: "bus", bus };
    }
    if (rest.startsWith("rule/")) {
      const path = rest.slice("rule/".length);
      const cut = path.lastIndexOf("/");
      const busName = cut < 0 ? DEFAULT_BUS : path.slice(0, cut);
      const name = path.slice(cut + 1);
      const rule = await this.#repo.getRule(busName, name);
      if (!rule) throw notFound(`Rule ${name} on EventBus ${busName}`);
      return { kind: "rule", rule };
    }
    throw validation(`ResourceARN ${arn}: Nimbus tags event buses and rules.`);
  }
}

const tagsOf = (r: Tagged): Readonly<Record<string, string>> => (r.kind === "bus" ? r.bus.tags : r.rule.tags);
