/**
 * EventBridge Scheduler as a surface: REST-JSON under `/schedules`, `/schedule-groups` and
 * `/tags/<scheduler ARN>`, signed for the service "scheduler". It shares `/` with the Lambda
 * API's catch-all, so it takes only its own paths (`accepts`). Path and query members are put
 * beside the body's under the model's member names; errors carry `x-amzn-ErrorType` and
 * `{"Message": …}`.
 */
import type { Context } from "hono";
import { Hono } from "hono";
import { SchedulerError } from "../../../services/scheduler/errors.js";
import type { Input, Output, Scheduler } from "../../../services/scheduler/scheduler.js";
import { type ErrorCode, NimbusError } from "../../../shared/errors.js";
import { newRequestId } from "../../../shared/ids.js";
import { parseJsonObject } from "../../body.js";
import { bodyOf, type Surface, type SurfaceEnv } from "../../surface.js";

export interface SchedulerSurfaceDeps {
  readonly scheduler: Scheduler;
}

const LIMIT = { bytes: 256 * 1024, tooLarge: "Request must be smaller than 262144 bytes" };
const PATHS = /^\/(schedules|schedule-groups)([/?]|$)|^\/tags\/arn(:|%3A)aws(:|%3A)scheduler/i;

export function isSchedulerRequest(request: Request): boolean {
  const url = request.url;
  const start = url.indexOf("/", url.indexOf("//") + 2);
  return PATHS.test(start < 0 ? "/" : url.slice(start));
}

/** The gateway's own errors under Scheduler's names. */
const NAMES: Partial<Record<ErrorCode, string>> = {
  NotFound: "ResourceNotFoundException",
  Conflict: "ConflictException",
  TooManyRequests: "ThrottlingException",
  ServiceUnavailable: "InternalServerException",
  Internal: "InternalServerException",
  MissingAuthenticationToken: "UnrecognizedClientException",
  InvalidSignature: "InvalidSignatureException",
  UnrecognizedClient: "UnrecognizedClientException",
  RequestExpired: "InvalidSignatureException",
  IncompleteSignature: "IncompleteSignatureException",
};

function answer(code: string, message: string, status: number, requestId: string): Response {
  return new Response(JSON.stringify({ Message: message }), {
    status,
    headers: {
      "content-type": "application/json",
      "x-amzn-errortype": code,
      "x-amzn-requestid": requestId,
    },
  });
}

export function schedulerErrorResponse(err: NimbusError, requestId: string): Response {
  return answer(NAMES[err.code] ?? "ValidationException", err.message, err.status, requestId);
}

type Action = (s: Scheduler, input: Input) => Promise<Output>;

export function schedulerSurface(d: SchedulerSurfaceDeps): Surface {
  const app = new Hono<SurfaceEnv>();
  const route = (run: Action) => async (c: Context<SurfaceEnv>) => {
    const requestId = newRequestId();
    try {
      const body = bodyOf(c);
      const query: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(c.req.queries())) query[k] = v.length === 1 ? v[0] : v;
      const input = {
        ...(body.length === 0 ? {} : parseJsonObject(body)),
        ...query,
        ...c.req.param(),
      };
      const output = await run(d.scheduler, input);
      return new Response(JSON.stringify(output), {
        status: 200,
        headers: { "content-type": "application/json", "x-amzn-requestid": requestId },
      });
    } catch (err) {
      if (err instanceof SchedulerError) return answer(err.code, err.message, err.status, requestId);
      if (err instanceof NimbusError) return schedulerErrorResponse(err, requestId);
      throw err;
    }
  };
  app.post(
    "/schedules/:Name",
    route((s, i) => s.createSchedule(i)),
  );
  app.put(
    "/schedules/:Name",
    route((s, i) => s.updateSchedule(i)),
  );
  app.get(
    "/schedules/:Name",
    route((s, i) => s.getSchedule(i)),
  );
  app.delete(
    "/schedules/:Name",
    route((s, i) => s.deleteSchedule(i)),
  );
  app.get(
    "/schedules",
    route((s, i) => s.listSchedules(i)),
  );
  app.post(
    "/schedule-groups/:Name",
    route((s, i) => s.createScheduleGroup(i)),
  );
  app.get(
    "/schedule-groups/:Name",
    route((s, i) => s.getScheduleGroup(i)),
  );
  app.delete(
    "/schedule-groups/:Name",
    route((s, i) => s.deleteScheduleGroup(i)),
  );
  app.get(
    "/schedule-groups",
    route((s, i) => s.listScheduleGroups(i)),
  );
  app.get(
    "/tags/:ResourceArn{.+}",
    route((s, i) => s.listTagsForResource(i)),
  );
  app.post(
    "/tags/:ResourceArn{.+}",
    route((s, i) => s.tagResource(i)),
  );
  app.delete(
    "/tags/:ResourceArn{.+}",
    route((s, i) => s.untagResource(i)),
  );
  return {
    name: "scheduler",
    reach: { pathPrefix: "/", accepts: isSchedulerRequest },
    auth: { kind: "platform-key", service: "scheduler" },
    body: { mode: "buffered", limit: () => LIMIT },
    renderError: schedulerErrorResponse,
    app,
  };
}
