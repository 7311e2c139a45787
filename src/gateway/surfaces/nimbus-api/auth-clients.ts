/**
 * The OpenID Connect provider's clients in Nimbus's API (`/nimbus/v1/auth/clients`, signed with
 * the platform's key): register an app with its redirect URIs (a confidential client's secret is
 * shown once, in the answer), list them, delete one.
 */
import { Hono } from "hono";
import type { AuthService } from "../../../services/auth/auth.js";
import type { OAuthClientRecord } from "../../../services/auth/model.js";
import { isRedirectUri, MAX_REDIRECT_URI_CHARS, registerClient } from "../../../services/auth/oidc.js";
import { invalidInput, NimbusError, type Problem } from "../../../shared/errors.js";
import { parseJsonObject } from "../../body.js";
import { type BodyLimitRule, bodyOf, type SurfaceEnv } from "../../surface.js";

const MAX_REDIRECT_URIS = 10;
const MAX_NAME_CHARS = 100;
/** Ten of the longest redirect URIs, JSON-escaped, and a name. */
const MAX_CLIENT_BODY_BYTES = 32 * 1024;
const FIELDS = ["name", "redirectUris", "firstParty", "public"];

/** The limit of a client registration's body, which the gateway reads before authenticating its request. */
export const AUTH_CLIENT_BODY_LIMIT: BodyLimitRule = {
  method: "POST",
  path: /^\/nimbus\/v1\/auth\/clients$/,
  limit: {
    bytes: MAX_CLIENT_BODY_BYTES,
    tooLarge: `a client registration is at most ${MAX_CLIENT_BODY_BYTES} bytes`,
  },
};

export function authClientsApi(d: { authService: AuthService | undefined }): Hono<SurfaceEnv> {
  const app = new Hono<SurfaceEnv>();
  const service = () => {
    if (d.authService === undefined)
      throw new NimbusError("NotFound", "the auth service is not enabled on this platform");
    return d.authService;
  };

  app.post("/nimbus/v1/auth/clients", async (c) => {
    const input = decodeClient(parseJsonObject(bodyOf(c)));
    const { client, secret } = await registerClient(service().ctx, input);
    return c.json({ ...wire(client), ...(secret === undefined ? {} : { clientSecret: secret }) }, 201);
  });
  app.get("/nimbus/v1/auth/clients", async (c) => {
    const clients = await service().ctx.repo.listClients();
    return c.json({ clients: clients.map(wire) });
  });
  app.delete("/nimbus/v1/auth/clients/:id", async (c) => {
    const id = c.req.param("id");
    if (!(await service().ctx.repo.deleteClient(id)))
      throw new NimbusError("NotFound", `no OIDC client ${id}`);
    return c.body(null, 204);
  });
  return app;
}

/** The registration's fields, every problem reported at once. */
export function decodeClient(body: Record<string, unknown>): {
  name: string;
  redirectUris: string[];
  firstParty: boolean;
  isPublic: boolean;
} {
  const problems: Problem[] = [];
  for (const key of Object.keys(body))
    if (!FIELDS.includes(key))
      problems.push({
        field: key,
        value: body[key],
        rule: "reserved",
        expected: `not be given: the fields are ${FIELDS.join(", ")}`,
      });
  const name = typeof body.name === "string" ? body.name.trim() : "";
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused.
  if (name.length < 1 || name.length > MAX_NAME_CHARS || /[\u0000-\u001f\u007f]/.test(name))
    problems.push({
      field: "name",
      value: body.name,
      rule: "length",
      expected: `be text of 1 to ${MAX_NAME_CHARS} characters without control characters`,
    });
  const uris = body.redirectUris;
  if (!Array.isArray(uris) || uris.length < 1 || uris.length > MAX_REDIRECT_URIS)
    problems.push({
      field: "redirectUris",
      value: uris,
      rule: "length",
      expected: `be a list of 1 to ${MAX_REDIRECT_URIS} URIs`,
    });
  else
    uris.forEach((uri: unknown, i) => {
      if (typeof uri !== "string" || !isRedirectUri(uri))
        problems.push({
          field: `redirectUris.${i}`,
          value: uri,
          rule: "pattern",
          expected: `be an absolute https URL of at most ${MAX_REDIRECT_URI_CHARS} characters, without a fragment or user info (http only for localhost, 127.0.0.1, [::1] or *.localhost)`,
        });
    });
  for (const flag of ["firstParty", "public"])
    if (body[flag] !== undefined && typeof body[flag] !== "boolean")
      problems.push({ field: flag, value: body[flag], rule: "type", expected: "be true or false" });
  if (problems.length > 0) throw invalidInput(problems);
  return {
    name,
    redirectUris: uris as string[],
    firstParty: body.firstParty === true,
    isPublic: body.public === true,
  };
}

function wire(client: OAuthClientRecord) {
  return {
    clientId: client.clientId,
    name: client.name,
    redirectUris: client.redirectUris,
    firstParty: client.firstParty,
    public: client.secretHash === undefined,
    createdAt: new Date(client.createdAt).toISOString(),
  };
}
