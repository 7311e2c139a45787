import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { mergeGlobals, parseTemplate, TemplateProblems } from "./parse.js";

const HEAD = "Transform: AWS::Serverless-2016-10-31\n";

function parse(text: string, overrides: Record<string, string> = {}) {
  return parseTemplate({
    file: "/srv/app/template.yaml",
    text,
    stackName: "app",
    region: "us-east-1",
    accountId: "000000000000",
    endpoint: "http://127.0.0.1:9000",
    parameterOverrides: overrides,
  });
}

function problems(text: string): string[] {
  try {
    parse(text);
  } catch (err) {
    if (err instanceof TemplateProblems) return [...err.problems];
    throw err;
  }
  assert.fail("expected the template to be refused");
}

describe("reading a SAM template", () => {
  test("Globals.Function merges as SAM does: maps key by key, the resource's scalars win", () => {
    const stack = parse(
      `${HEAD}Parameters:
  Greeting: { Type: String, Default: hi }
Globals:
  Function:
    Runtime: nodejs22.x
    MemorySize: 256
    Timeout: 10
    Environment:
      Variables: { STAGE: dev, SHARED: global }
Resources:
  Hello:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/hello
      MemorySize: 512
      Environment:
        Variables: { SHARED: own, GREETING: !Ref Greeting, ARN: !GetAtt Hello.Arn }
  Named:
    Type: AWS::Serverless::Function
    Properties: { CodeUri: ., FunctionName: !Sub "\${AWS::StackName}-named" }
`,
      { Greeting: "hello" },
    );
    const [hello, named] = stack.functions;
    assert.equal(hello?.name, "app-Hello");
    assert.equal(hello?.codeDir, "/srv/app/src/hello");
    assert.equal(hello?.runtime, "nodejs22.x");
    assert.equal(hello?.memoryMb, 512);
    assert.equal(hello?.timeoutS, 10);
    assert.deepEqual(hello?.environment, {
      STAGE: "dev",
      SHARED: "own",
      GREETING: "hello",
      ARN: "arn:aws:lambda:us-east-1:000000000000:function:app-Hello",
    });
    assert.equal(named?.name, "app-named");
    assert.equal(named?.memoryMb, 256);
    assert.deepEqual(mergeGlobals({ a: 1, m: { x: 1 } }, { m: { y: 2 }, l: [1] }), {
      a: 1,
      m: { x: 1, y: 2 },
      l: [1],
    });
  });

  test("HttpApi and Api events become routes of the explicit or the implicit API", () => {
    const stack = parse(`${HEAD}Resources:
  MyApi:
    Type: AWS::Serverless::HttpApi
    Properties:
      StageName: prod
      CorsConfiguration: { AllowOrigins: ["https://example.com"] }
      Auth:
        DefaultAuthorizer: Jwt
        Authorizers:
          Jwt:
            IdentitySource: $request.header.Authorization
            JwtConfiguration: { issuer: "https://issuer.example", audience: [app] }
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: .
      Events:
        List: { Type: HttpApi, Properties: { ApiId: !Ref MyApi, Path: /items, Method: get } }
        Open: { Type: HttpApi, Properties: { ApiId: !Ref MyApi, Path: /health, Method: GET, Auth: { Authorizer: NONE } } }
        Legacy: { Type: Api, Properties: { Path: /old, Method: post } }
`);
    const [explicit, implicit] = stack.apis;
    assert.equal(explicit?.name, "app-MyApi");
    assert.equal(explicit?.stageName, "prod");
    assert.deepEqual(explicit?.authorizers, [
      {
        name: "Jwt",
        issuer: "https://issuer.example",
        audience: ["app"],
        identitySource: "$request.header.Authorization",
      },
    ]);
    assert.deepEqual(
      explicit?.routes.map((r) => [r.routeKey, r.payloadFormatVersion, r.authorizer]),
      [
        ["GET /items", "2.0", undefined],
        ["GET /health", "2.0", "NONE"],
      ],
    );
    assert.equal(implicit?.logicalId, "ServerlessHttpApi");
    assert.equal(implicit?.name, "app");
    assert.deepEqual(
      implicit?.routes.map((r) => [r.routeKey, r.payloadFormatVersion]),
      [["POST /old", "1.0"]],
    );
  });

  test("unsupported types, properties, sections and intrinsics are all named, with their lines", () => {
    const found = problems(`Transform: AWS::Serverless-2016-10-31
Conditions:
  IsProd: !Equals [a, b]
Resources:
  Table:
    Type: AWS::DynamoDB::Table
  Fn:
    Type: AWS::Serverless::Function
    DependsOn: Table
    Properties:
      CodeUri: .
      Layers: [arn]
      MemorySize: !If [IsProd, 512, 128]
      Events:
        Stream: { Type: Kinesis, Properties: { Stream: s } }
`);
    assert.deepEqual(found, [
      "2:1 Conditions: the section Conditions is not supported",
      "6:5 Resources.Table.Type: resource type AWS::DynamoDB::Table is not supported (supported: AWS::Serverless::Function, AWS::Serverless::HttpApi, AWS::SQS::Queue)",
      "9:5 Resources.Fn.DependsOn: resource attribute DependsOn is not supported",
      "12:7 Resources.Fn.Properties.Layers: AWS::Serverless::Function property Layers is not supported",
      "13:7 Resources.Fn.Properties.MemorySize: Fn::If is not supported (supported: Ref, Fn::GetAtt, Fn::Sub, Fn::Join)",
      "15:19 Resources.Fn.Properties.Events.Stream.Type: event type Kinesis is not supported (supported: HttpApi, Api, SQS, Schedule, ScheduleV2)",
    ]);
  });

  test("queues: names, attributes with SQS's defaults, Ref as the URL, GetAtt Arn; a dead-letter queue first", () => {
    const stack = parse(`${HEAD}Resources:
  Orders:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 60
      RedrivePolicy: { deadLetterTargetArn: !GetAtt Failed.Arn, maxReceiveCount: 3 }
  Failed:
    Type: AWS::SQS::Queue
    Properties: { QueueName: failed, MessageRetentionPeriod: 1209600 }
  Ordered:
    Type: AWS::SQS::Queue
    Properties: { FifoQueue: true, ContentBasedDeduplication: true }
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: .
      Environment:
        Variables: { QUEUE_URL: !Ref Orders, QUEUE_NAME: !GetAtt Orders.QueueName }
      Events:
        Jobs:
          Type: SQS
          Properties:
            Queue: !GetAtt Orders.Arn
            BatchSize: 5
            FunctionResponseTypes: [ReportBatchItemFailures]
            FilterCriteria: { Filters: [{ Pattern: '{"body":{"kind":["order"]}}' }, { Pattern: { body: { n: [1] } } }] }
            ScalingConfig: { MaximumConcurrency: 4 }
        Ordered: { Type: SQS, Properties: { Queue: !GetAtt Ordered.Arn, Enabled: false } }
`);
    const arn = (name: string) => `arn:aws:sqs:us-east-1:000000000000:${name}`;
    assert.deepEqual(
      stack.queues.map((q) => [q.logicalId, q.name, q.fifo]),
      [
        ["Failed", "failed", false],
        ["Orders", "app-Orders", false],
        ["Ordered", "app-Ordered.fifo", true],
      ],
    );
    assert.deepEqual(stack.queues[1]!.attributes, {
      DelaySeconds: "0",
      MaximumMessageSize: "1048576",
      MessageRetentionPeriod: "345600",
      ReceiveMessageWaitTimeSeconds: "0",
      VisibilityTimeout: "60",
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arn("failed"), maxReceiveCount: 3 }),
    });
    assert.equal(stack.queues[0]!.attributes.RedrivePolicy, "", "no RedrivePolicy: none");
    assert.equal(stack.queues[2]!.attributes.ContentBasedDeduplication, "true");
    assert.deepEqual(stack.functions[0]!.environment, {
      QUEUE_URL: "http://127.0.0.1:9000/000000000000/app-Orders",
      QUEUE_NAME: "app-Orders",
    });
    assert.deepEqual(stack.queueEvents, [
      {
        functionId: "Worker",
        eventId: "Jobs",
        queueArn: arn("app-Orders"),
        batchSize: 5,
        maximumBatchingWindowInSeconds: 0,
        enabled: true,
        filters: ['{"body":{"kind":["order"]}}', '{"body":{"n":[1]}}'],
        functionResponseTypes: ["ReportBatchItemFailures"],
        maximumConcurrency: 4,
      },
      {
        functionId: "Worker",
        eventId: "Ordered",
        queueArn: arn("app-Ordered.fifo"),
        batchSize: 10,
        maximumBatchingWindowInSeconds: 0,
        enabled: false,
        filters: [],
        functionResponseTypes: [],
        maximumConcurrency: undefined,
      },
    ]);
  });

  test("queue and SQS event properties outside the subset or their ranges are named", () => {
    const found = problems(`${HEAD}Resources:
  Q:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: plain.fifo
      VisibilityTimeout: 50000
      ContentBasedDeduplication: true
      KmsMasterKeyId: k
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: .
      Events:
        A: { Type: SQS, Properties: { Queue: !GetAtt Q.Arn, BatchSize: 0, StartingPosition: LATEST } }
        B: { Type: SQS, Properties: { Queue: !GetAtt Q.Arn } }
        C: { Type: SQS, Properties: { Queue: orders } }
`);
    assert.deepEqual(found, [
      "6:7 Resources.Q.Properties.QueueName: a QueueName ending with .fifo needs FifoQueue: true",
      "9:7 Resources.Q.Properties.KmsMasterKeyId: AWS::SQS::Queue property KmsMasterKeyId is not supported",
      "7:7 Resources.Q.Properties.VisibilityTimeout: expected an integer from 0 to 43200, got 50000",
      "8:7 Resources.Q.Properties.ContentBasedDeduplication: applies to FIFO queues only (FifoQueue: true)",
      "15:75 Resources.Fn.Properties.Events.A.Properties.StartingPosition: SQS event property StartingPosition is not supported",
      "15:61 Resources.Fn.Properties.Events.A.Properties.BatchSize: expected an integer from 1 to 10000, got 0",
      "17:39 Resources.Fn.Properties.Events.C.Properties.Queue: expected a queue's ARN (!GetAtt Queue.Arn)",
      "16:9 Resources.Fn.Properties.Events.B: a second SQS event of Fn reads arn:aws:sqs:us-east-1:000000000000:plain.fifo: one event source mapping per queue and function",
    ]);
  });

  test("the transform is required, and a parameter without a value names the flag that gives it", () => {
    const found = problems(
      "Parameters:\n  Stage: { Type: String }\nResources:\n  F: { Type: AWS::Serverless::Function, Properties: { CodeUri: . } }\n",
    );
    assert.match(found[0]!, /Transform: expected Transform: AWS::Serverless-2016-10-31/);
    assert.match(found[1]!, /parameter Stage has no Default: give it with --parameter-overrides Stage=VALUE/);
  });
});
