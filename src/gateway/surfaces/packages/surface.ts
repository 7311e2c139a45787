/**
 * Function packages by presigned link (`GET /nimbus/v1/packages/{id}?Expires=&Signature=`),
 * where GetFunction's `Code.Location` points. The link is the credential: tools download it
 * with a plain GET, as they do Lambda's S3 links.
 */
import { Hono } from "hono";
import { type CodeUrls, PACKAGE_PATH } from "../../../control/code-urls.js";
import { NimbusError } from "../../../shared/errors.js";

export function packageApi(d: {
  codeUrls: CodeUrls;
  packages: { read(packageId: string): Promise<Buffer> };
}): Hono {
  const app = new Hono();

  app.get(`${PACKAGE_PATH}/:id`, async (c) => {
    const id = c.req.param("id");
    d.codeUrls.verify(id, c.req.query("Expires"), c.req.query("Signature"));
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

  return app;
}
