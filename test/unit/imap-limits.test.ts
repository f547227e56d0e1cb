import { describe, expect, it } from "vitest";
import { ImapLimits } from "../../relay/imap/limits.ts";

describe("IMAP limits", () => {
  it("blocks an IP or a user after too many failures, until the window passes", () => {
    let now = 1_000_000;
    const l = new ImapLimits({ maxAuthFailures: 3, authWindowMs: 60_000 }, () => now);
    for (let i = 0; i < 3; i++) l.authFailed("192.0.2.1", `user${i}@x.test`);
    expect(l.authBlocked("192.0.2.1", "other@x.test")).toBe(true);
    expect(l.authBlocked("192.0.2.2", "user0@x.test")).toBe(false);
    for (let i = 0; i < 3; i++) l.authFailed(`198.51.100.${i}`, "Bob@x.test");
    expect(l.authBlocked("203.0.113.9", "bob@x.test")).toBe(true);
    now += 61_000;
    expect(l.authBlocked("192.0.2.1", "bob@x.test")).toBe(false);
  });

  it("caps sessions per user and IP", () => {
    const l = new ImapLimits({ maxConnectionsPerUserIp: 2 });
    expect(l.open("a@x.test", "192.0.2.1")).toBe(true);
    expect(l.open("A@x.test", "192.0.2.1")).toBe(true);
    expect(l.open("a@x.test", "192.0.2.1")).toBe(false);
    expect(l.open("a@x.test", "192.0.2.2")).toBe(true);
    l.close("a@x.test", "192.0.2.1");
    expect(l.open("a@x.test", "192.0.2.1")).toBe(true);
  });
});
