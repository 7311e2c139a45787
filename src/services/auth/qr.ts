/**
 * The QR code of a TOTP factor's otpauth URI, as SVG, for the enrolment answer's
 * `totp.qr_code`. Supabase Auth puts the bare SVG there, and supabase-js (auth-js 2.x) prepends
 * `data:image/svg+xml;utf-8,` itself before handing it to the app: the wire must carry
 * `otpauthSvg`, or that client would prefix a data URL twice. `otpauthDataUrl` is the ready
 * `<img src>`, for clients that do not add the prefix (and our own pages).
 *
 * Drawn by the `qrcode` package (encoding modes, Reed-Solomon error correction, masking are
 * its business), loaded on the first enrolment rather than at start. Its SVG names colours in
 * hex; a `#` in a data URL starts the fragment and cuts the image off, so they become names.
 */

export const SVG_DATA_URL_PREFIX = "data:image/svg+xml;utf-8,";

/** The QR code of `uri` as a standalone SVG document, free of `#` so it can sit in a data URL. */
export async function otpauthSvg(uri: string): Promise<string> {
  const { default: QRCode } = await import("qrcode");
  const svg = await QRCode.toString(uri, {
    type: "svg",
    errorCorrectionLevel: "M",
    margin: 4,
    color: { dark: "#000000", light: "#ffffff" },
  });
  const named = svg.replaceAll('"#000000"', '"black"').replaceAll('"#ffffff"', '"white"');
  if (named.includes("#"))
    throw new Error("qrcode's SVG has a colour Nimbus does not rename; check its output format");
  return named;
}

/** The QR code of `uri` as an SVG data URL (`data:image/svg+xml;utf-8,<svg…>`). */
export async function otpauthDataUrl(uri: string): Promise<string> {
  return SVG_DATA_URL_PREFIX + (await otpauthSvg(uri));
}
