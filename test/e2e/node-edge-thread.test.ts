import { mailPathSuite } from "./mail-path.ts";

// The same mail path with message ingest on the opt-in edge worker thread (relay/serve.ts).
mailPathSuite("node", { MXEDGE_EDGE_THREAD: "1" });
