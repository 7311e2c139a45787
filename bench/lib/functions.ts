/** The trivial function every figure runs, and the calls that deploy and remove it. */
import yazl from "yazl";
import { NimbusClient } from "../../src/cli/client.js";
import type { Credentials } from "../../src/gateway/auth/principal.js";

/**
 * The handler, as deployed and as the bare node:http baseline imports it. `waitMs` lets the
 * memory figure hold invocations open so that the platform scales out.
 */
export const TRIVIAL_HANDLER = `export const handler = async (event) => {
  if (event.waitMs) await new Promise((resolve) => setTimeout(resolve, event.waitMs));
  return { ok: true };
};
`;

/** The event every measured invocation sends. */
export const PAYLOAD = Buffer.from(JSON.stringify({ hello: "world" }));

export const REGION = "us-east-1";

export function invokePath(name: string): string {
  return `/2015-03-31/functions/${encodeURIComponent(name)}/invocations`;
}

/** Control-plane calls through the CLI's signed client (their speed is not measured). */
/** The bench's functions' memory size. */
export const BENCH_MEMORY_MB = 1769;

export class Control {
  readonly #client: NimbusClient;

  constructor(endpoint: string, credentials: Credentials) {
    this.#client = new NimbusClient({ endpoint, ...credentials, region: REGION });
  }

  /** Deploys the trivial handler; `salt` makes the package unique, so its code is not cached yet. */
  async deploy(
    name: string,
    opts: { salt?: string; reserved?: number; code?: string; snapStart?: boolean } = {},
  ): Promise<void> {
    const code = `${opts.code ?? TRIVIAL_HANDLER}${opts.salt ? `// ${opts.salt}\n` : ""}`;
    const zip = await zipOf({ "index.mjs": code });
    await this.#client.call("POST", "/2015-03-31/functions", {
      body: JSON.stringify({
        FunctionName: name,
        Runtime: "nodejs20.x",
        Handler: "index.handler",
        Role: "arn:aws:iam::000000000000:role/bench",
        // One full vCPU under the CPU quota (1,769 MB buys one): the figures measure the
        // platform, not the 1/14 of a CPU a 128 MB function is allowed.
        MemorySize: BENCH_MEMORY_MB,
        Code: { ZipFile: zip.toString("base64") },
        ...(opts.snapStart ? { SnapStart: { ApplyOn: "PublishedVersions" } } : {}),
      }),
    });
    if (opts.reserved !== undefined) {
      await this.#client.call("PUT", `/2017-10-31/functions/${encodeURIComponent(name)}/concurrency`, {
        body: JSON.stringify({ ReservedConcurrentExecutions: opts.reserved }),
      });
    }
  }

  /** Sets (or, with undefined, removes) the function's reserved concurrency. */
  async reserve(name: string, reserved: number | undefined): Promise<void> {
    const path = `/2017-10-31/functions/${encodeURIComponent(name)}/concurrency`;
    if (reserved === undefined) await this.#client.call("DELETE", path);
    else
      await this.#client.call("PUT", path, {
        body: JSON.stringify({ ReservedConcurrentExecutions: reserved }),
      });
  }

  /**
   * Waits until no async event waits in the platform's queue (`nimbus_async_queue_depth`), so
   * that draining one figure's backlog does not take the CPU of the next figure (or of the
   * other platform's run of it).
   */
  async drained(timeoutMs = 180_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const text = await (await this.#client.call("GET", "/metrics")).text();
      const waiting = text
        .split("\n")
        .filter((l) => l.startsWith("nimbus_async_queue_depth{"))
        .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(" ") + 1)), 0);
      if (waiting === 0) return;
      if (Date.now() > until)
        throw new Error(`the async queue still holds ${waiting} events after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** An invocation record (`GET /nimbus/v1/invocations/{id}`). */
  async record(id: string): Promise<{ status: string; result: unknown }> {
    const res = await this.#client.call("GET", `/nimbus/v1/invocations/${encodeURIComponent(id)}`);
    return (await res.json()) as { status: string; result: unknown };
  }

  /** Publishes $LATEST as a version (a SnapStart function's snapshot is built before this answers). */
  async publish(name: string): Promise<string> {
    const res = await this.#client.call(
      "POST",
      `/2015-03-31/functions/${encodeURIComponent(name)}/versions`,
      {
        body: "{}",
      },
    );
    return ((await res.json()) as { Version: string }).Version;
  }

  /** Publishes $LATEST as a version and keeps `count` instances of it provisioned; resolves once READY. */
  async provision(name: string, count: number): Promise<string> {
    const version = await this.publish(name);
    const path = `/2019-09-30/functions/${encodeURIComponent(name)}/provisioned-concurrency`;
    const query = { Qualifier: version };
    await this.#client.call("PUT", path, {
      query,
      body: JSON.stringify({ ProvisionedConcurrentExecutions: count }),
    });
    for (let i = 0; i < 3000; i++) {
      const c = (await (await this.#client.call("GET", path, { query })).json()) as {
        Status: string;
        StatusReason?: string;
      };
      if (c.Status === "READY") return version;
      if (c.Status === "FAILED") throw new Error(`provisioning ${name} failed: ${c.StatusReason}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error(`provisioning ${name} did not become READY`);
  }

  /** Gives the function a URL with auth NONE (`CreateFunctionUrlConfig`); resolves to its `FunctionUrl`. */
  async createUrl(name: string, invokeMode: "BUFFERED" | "RESPONSE_STREAM" = "BUFFERED"): Promise<string> {
    const res = await this.#client.call("POST", `/2021-10-31/functions/${encodeURIComponent(name)}/url`, {
      body: JSON.stringify({ AuthType: "NONE", InvokeMode: invokeMode }),
    });
    return ((await res.json()) as { FunctionUrl: string }).FunctionUrl;
  }

  /** The function's ARN, as an HTTP API's integration names it. */
  async arn(name: string): Promise<string> {
    const res = await this.#client.call("GET", `/2015-03-31/functions/${encodeURIComponent(name)}`);
    return ((await res.json()) as { Configuration: { FunctionArn: string } }).Configuration.FunctionArn;
  }

  /** One call of API Gateway v2's management API (`/v2/apis/…`, signed for `apigateway`); its JSON answer. */
  async apigateway<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.#client.call(method, path, {
      service: "apigateway",
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return (text ? JSON.parse(text) : {}) as T;
  }

  /** Deletes the function, which stops its instances. */
  async remove(name: string): Promise<void> {
    await this.#client.call("DELETE", `/2015-03-31/functions/${encodeURIComponent(name)}`);
  }
}

function zipOf(files: Record<string, string>): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const [name, content] of Object.entries(files))
    zip.addBuffer(Buffer.from(content), name, { mode: 0o644, mtime: new Date(0) });
  zip.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on("data", (c: Buffer) => chunks.push(c));
    zip.outputStream.on("end", () => resolve(Buffer.concat(chunks)));
    zip.outputStream.on("error", reject);
  });
}
