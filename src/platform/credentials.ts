/** The access key pair the platform verifies: from the environment, or generated once and kept. */
import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Credentials } from "../gateway/auth/principal.js";

export const CREDENTIALS_FILE = "credentials.json";

export async function loadCredentials(
  dataDir: string,
  env: Record<string, string | undefined>,
): Promise<{ credentials: Credentials; source: "environment" | "file" | "generated" }> {
  const id = env.NIMBUS_ACCESS_KEY_ID;
  const secret = env.NIMBUS_SECRET_ACCESS_KEY;
  if (id && secret)
    return { credentials: { accessKeyId: id, secretAccessKey: secret }, source: "environment" };
  if (id || secret) {
    throw new Error(
      "set both NIMBUS_ACCESS_KEY_ID and NIMBUS_SECRET_ACCESS_KEY, or neither to use the generated pair",
    );
  }
  const path = join(dataDir, CREDENTIALS_FILE);
  try {
    const stored = JSON.parse(await readFile(path, "utf8")) as Credentials;
    if (stored.accessKeyId && stored.secretAccessKey) return { credentials: stored, source: "file" };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT")
      throw new Error(`cannot read ${path}: ${(err as Error).message}`);
  }
  const credentials: Credentials = {
    accessKeyId: `NIMBUS${randomBytes(7).toString("hex").toUpperCase()}`,
    secretAccessKey: randomBytes(30).toString("base64url"),
  };
  await writeFile(path, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  return { credentials, source: "generated" };
}
