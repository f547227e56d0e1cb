import { mailPathSuite } from "./mail-path.ts";

mailPathSuite("node");
