/** `mxedge/edge`: the edge as a library, for composing into your own Worker or Node/Deno process. */

export { createStore, type SqlDriver, type Store } from "../src/store/index.ts";
export { createEdgeApp, DEFAULT_MAX_MESSAGE_BYTES, type EdgeOptions } from "./app.ts";
export { type D1Database, d1Driver } from "./d1.ts";
export { default as worker, type Env } from "./worker.ts";
