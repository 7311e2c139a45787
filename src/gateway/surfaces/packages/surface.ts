/**
 * Function packages by presigned link (`GET /nimbus/v1/packages/{id}?Expires=&Signature=`),
 * where GetFunction's `Code.Location` points. The link is the credential: tools download it
 * with a plain GET, as they do Lambda's S3 links.
 */
import { Hono } from "hono";
import { type CodeUrls, PACKAGE_PATH } from "../../../control/code-urls.js";
import { NimbusError } from "../../../shared/errors.js";
import { nimbusErrorResponse } from "../../errors.js";
import { principalOf, type Surface, type SurfaceEnv } from "../../surface.js";

export function packagesSurface(d: {
  codeUrls: CodeUrls;
  packages: { read(packageId: string): Promise<Buffer> };
}): Surface {
  const app = new Hono<SurfaceEnv>();

  app.get(`${PACKAGE_PATH}/:id`, async (c) => {
    const principal = principalOf(c);
    // The surface's policy admits links only; this narrows the type for the package id.
    if (principal.kind !== "link") throw new Error(`package surface reached by a ${principal.kind} caller`);
    const id = principal.resource;
    const zip = await d.packages.read(id).catch((err: unknown) => {
      // Collected since the link was made: its function was deleted or its code replaced.
      if ((err as NodeJS.ErrnoException).code === "ENOENT") {
        throw new NimbusError("NotFound", `package ${id} no longer exists: no function version uses it`);
      }
      throw err;
    });
    return new Response(zip, {
      status: 200,
      headers: {
        "content-type": "application/zip",
        "content-disposition": `attachment; filename="${id}.zip"`,
      },
    });
  });

  return {
    name: "packages",
    reach: { pathPrefix: PACKAGE_PATH },
    auth: {
      kind: "link",
      verify: (url) => {
        const id = url.pathname.slice(PACKAGE_PATH.length + 1);
        const q = url.searchParams;
        d.codeUrls.verify(id, q.get("Expires") ?? undefined, q.get("Signature") ?? undefined);
        return id;
      },
    },
    body: { mode: "buffered", limit: () => ({ bytes: 1024, tooLarge: "a package download takes no body" }) },
    renderError: nimbusErrorResponse,
    app,
  };
}
