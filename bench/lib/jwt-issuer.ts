/**
 * A token issuer for the HTTP figure's JWT route: a node:http server on the loopback that
 * publishes an OpenID discovery document and its key set, as an identity provider would, and
 * signs tokens with the matching private key. It runs in the bench process: the platform fetches
 * the keys once and caches them, so the issuer is off the measured path.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT } from "jose";

export interface JwtIssuer {
  /** `http://127.0.0.1:<port>`: the `iss` of its tokens and the authorizer's `issuer`. */
  readonly url: string;
  /** A token for `audience`, valid for `ttlSeconds`. */
  token(audience: string, ttlSeconds: number): Promise<string>;
  close(): void;
}

const KEY_ID = "bench-1";
const ALGORITHM = "RS256";

export async function startJwtIssuer(): Promise<JwtIssuer> {
  const { privateKey, publicKey } = await generateKeyPair(ALGORITHM);
  const jwk = { ...(await exportJWK(publicKey)), kid: KEY_ID, alg: ALGORITHM, use: "sig" };
  let url = "";
  const server = createServer((req, res) => {
    res.setHeader("content-type", "application/json");
    if (req.url === "/.well-known/openid-configuration")
      res.end(JSON.stringify({ issuer: url, jwks_uri: `${url}/jwks` }));
    else if (req.url === "/jwks") res.end(JSON.stringify({ keys: [jwk] }));
    else {
      res.statusCode = 404;
      res.end("{}");
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    token: (audience, ttlSeconds) =>
      new SignJWT({ sub: "bench" })
        .setProtectedHeader({ alg: ALGORITHM, kid: KEY_ID })
        .setIssuer(url)
        .setAudience(audience)
        .setIssuedAt()
        .setExpirationTime(`${ttlSeconds}s`)
        .sign(privateKey),
    close: () => server.close(),
  };
}
