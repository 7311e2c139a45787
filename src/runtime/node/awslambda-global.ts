// Bundled ahead of a function built into a SnapStart snapshot (worker/snapshot.ts): the
// function's module may call awslambda.streamifyResponse as it loads, and in a snapshot it
// loads before the runtime starts. The runtime defines the global again when it starts.
import { installNimbusGlobal } from "./nimbus-global.js";
import { installAwsLambdaGlobal } from "./streaming.js";

installAwsLambdaGlobal(process.env);
installNimbusGlobal();
