// The same end-to-end path with the whole server (relay and embedded edge) running under Deno 2.
import { mailPathSuite } from "./mail-path.ts";

mailPathSuite("deno");
