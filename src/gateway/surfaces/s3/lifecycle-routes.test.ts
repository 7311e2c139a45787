import assert from "node:assert/strict";
import { test } from "node:test";
import type { S3Error } from "../../../services/storage/errors.js";
import { checkLifecycle } from "../../../services/storage/lifecycle-config.js";
import { lifecycleInputOf, lifecycleXml } from "./lifecycle-routes.js";

const doc = (rules: string) =>
  Buffer.from(
    `<?xml version="1.0" encoding="UTF-8"?><LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${rules}</LifecycleConfiguration>`,
  );

/** The body `@aws-sdk/client-s3` sends for four rules (captured from PutBucketLifecycleConfigurationCommand). */
const FROM_SDK = doc(
  "<Rule><Status>Enabled</Status><Expiration><Date>2026-12-01T00:00:00Z</Date></Expiration><ID>x</ID><Filter/></Rule>" +
    "<Rule><ID>days</ID><Status>Enabled</Status><Expiration><Days>3</Days></Expiration><Filter><Prefix></Prefix></Filter></Rule>" +
    "<Rule><ID>uploads</ID><Status>Disabled</Status><Prefix>tmp/</Prefix><AbortIncompleteMultipartUpload><DaysAfterInitiation>3</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>" +
    "<Rule><ID>versions</ID><Status>Enabled</Status><Filter><And><Prefix>a/</Prefix><Tag><Key>k</Key><Value></Value></Tag><Tag><Key>j</Key><Value>1</Value></Tag>" +
    "<ObjectSizeGreaterThan>5</ObjectSizeGreaterThan></And></Filter><NoncurrentVersionExpiration><NoncurrentDays>3</NoncurrentDays>" +
    "<NewerNoncurrentVersions>2</NewerNoncurrentVersions></NoncurrentVersionExpiration></Rule>" +
    "<Rule><ID>markers</ID><Status>Enabled</Status><Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter><Expiration><ExpiredObjectDeleteMarker>false</ExpiredObjectDeleteMarker></Expiration></Rule>",
);

test("the XML client-s3 sends is read into the rules it describes, empty elements included", () => {
  assert.deepEqual(checkLifecycle(lifecycleInputOf(FROM_SDK)), {
    Rules: [
      { ID: "x", Status: "Enabled", Filter: {}, Expiration: { Date: "2026-12-01T00:00:00.000Z" } },
      { ID: "days", Status: "Enabled", Filter: { Prefix: "" }, Expiration: { Days: 3 } },
      {
        ID: "uploads",
        Status: "Disabled",
        Prefix: "tmp/",
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 3 },
      },
      {
        ID: "versions",
        Status: "Enabled",
        Filter: {
          And: {
            Prefix: "a/",
            Tags: [
              { Key: "k", Value: "" },
              { Key: "j", Value: "1" },
            ],
            ObjectSizeGreaterThan: 5,
          },
        },
        NoncurrentVersionExpiration: { NoncurrentDays: 3, NewerNoncurrentVersions: 2 },
      },
      {
        ID: "markers",
        Status: "Enabled",
        Filter: { Tag: { Key: "k", Value: "v" } },
        Expiration: { ExpiredObjectDeleteMarker: false },
      },
    ],
  });
});

test("a configuration is written back as it reads", () => {
  const config = checkLifecycle(lifecycleInputOf(FROM_SDK));
  const written = lifecycleXml(config);
  assert.match(written, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<LifecycleConfiguration xmlns=/);
  assert.match(written, /<Rule><ID>uploads<\/ID><Prefix>tmp\/<\/Prefix><Status>Disabled<\/Status>/);
  assert.deepEqual(checkLifecycle(lifecycleInputOf(Buffer.from(written))), config);
});

test("Transition and NoncurrentVersionTransition are counted, for the 501 they get", () => {
  const input = lifecycleInputOf(
    doc(
      "<Rule><Status>Enabled</Status><Filter/><Transition><Days>30</Days><StorageClass>GLACIER</StorageClass></Transition>" +
        "<NoncurrentVersionTransition><NoncurrentDays>1</NoncurrentDays><StorageClass>GLACIER</StorageClass></NoncurrentVersionTransition></Rule>",
    ),
  );
  assert.equal(input.Rules[0]?.transitions, 2);
  assert.throws(
    () => checkLifecycle(input),
    (err: S3Error) => err.code === "NotImplemented" && err.status === 501,
  );
});

test("a document of another root, or two Tags directly in a Filter, is MalformedXML", () => {
  const code = (body: Buffer) => {
    try {
      checkLifecycle(lifecycleInputOf(body));
    } catch (err) {
      return (err as S3Error).code;
    }
    return "accepted";
  };
  assert.equal(code(Buffer.from("<CORSConfiguration/>")), "MalformedXML");
  assert.equal(
    code(
      doc(
        "<Rule><Status>Enabled</Status><Filter><Tag><Key>a</Key><Value>1</Value></Tag><Tag><Key>b</Key><Value>1</Value></Tag></Filter><Expiration><Days>1</Days></Expiration></Rule>",
      ),
    ),
    "MalformedXML",
  );
});
