import assert from "node:assert/strict";
import { test } from "node:test";
import QRCode from "qrcode";
import { otpauthDataUrl, otpauthSvg, SVG_DATA_URL_PREFIX } from "./qr.js";
import { otpauthUri } from "./totp.js";

const URI = otpauthUri({
  issuer: "Nimbus",
  account: "ada@example.com",
  secret: "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
});

test("the QR code is a standalone square SVG document in black and white", async () => {
  const svg = await otpauthSvg(URI);
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" viewBox="0 0 (\d+) \1"/);
  assert.match(svg, /<\/svg>\s*$/);
  assert.match(svg, /fill="white"/);
  assert.match(svg, /stroke="black"/);
});

/** The dark modules the SVG's path draws, as "row,col" inside a quiet zone of `margin`. */
function darkModules(svg: string, margin: number): Set<string> {
  const d = /<path stroke="black" d="([^"]*)"/.exec(svg)?.[1] ?? "";
  const dark = new Set<string>();
  let x = 0;
  let y = 0;
  for (const [, cmd, a, b] of d.matchAll(/([Mmh])(-?[\d.]+)(?: (-?[\d.]+))?/g)) {
    if (cmd === "M") [x, y] = [Number(a), Number(b)];
    else if (cmd === "m") [x, y] = [x + Number(a), y + Number(b ?? 0)];
    else for (const end = x + Number(a); x < end; x++) dark.add(`${Math.floor(y) - margin},${x - margin}`);
  }
  return dark;
}

test("the SVG draws the URI's QR symbol (error correction M) inside a four-module quiet zone", async () => {
  const svg = await otpauthSvg(URI);
  const symbol = QRCode.create(URI, { errorCorrectionLevel: "M" }).modules;
  assert.match(svg, new RegExp(`viewBox="0 0 ${symbol.size + 8} ${symbol.size + 8}"`));
  const expected = new Set<string>();
  symbol.data.forEach((bit, i) => {
    if (bit) expected.add(`${Math.floor(i / symbol.size)},${i % symbol.size}`);
  });
  assert.ok(expected.size > 100);
  assert.deepEqual(darkModules(svg, 4), expected);
});

test("the SVG has no '#', which would cut a data URL short at the fragment", async () => {
  assert.ok(!(await otpauthSvg(URI)).includes("#"));
});

test("the data URL is the SVG behind the prefix supabase-js adds (data:image/svg+xml;utf-8,)", async () => {
  assert.equal(SVG_DATA_URL_PREFIX, "data:image/svg+xml;utf-8,");
  const url = await otpauthDataUrl(URI);
  assert.equal(url, SVG_DATA_URL_PREFIX + (await otpauthSvg(URI)));
  assert.ok(url.startsWith("data:image/svg+xml;utf-8,<svg "));
});

test("the same URI always draws the same code, and another URI another code", async () => {
  assert.equal(await otpauthSvg(URI), await otpauthSvg(URI));
  assert.notEqual(await otpauthSvg(URI), await otpauthSvg(`${URI}x`));
});

test("a longer URI needs a larger code (more modules)", async () => {
  const size = async (text: string) => Number(/viewBox="0 0 (\d+)/.exec(await otpauthSvg(text))?.[1]);
  const long = otpauthUri({
    issuer: "A rather long issuer name",
    account: "someone.with.a.long.address@example.com",
    secret: "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
  });
  assert.ok((await size(long)) > (await size(URI)));
});
