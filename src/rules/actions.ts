/** Rule actions: parsed once, at configuration time, so a typo fails start-up instead of a message. */
import type { SmtpReply } from "../contract.ts";

export type RuleAction =
  | { kind: "accept" }
  | { kind: "reject"; reply: SmtpReply }
  | { kind: "tempfail"; reply: SmtpReply }
  | { kind: "quarantine" }
  | { kind: "tag"; header: string; value: string }
  | { kind: "discard" }
  | { kind: "deliver"; mailbox: string }
  | { kind: "webhook"; name: string }
  | { kind: "stop" };

export class ActionSyntaxError extends Error {}

/** `reject`, `reject 554 5.7.1 go away`, `reject 550 no thanks`, `reject go away`. */
function reply(rest: string, fallback: SmtpReply, range: "4" | "5"): SmtpReply {
  const m = /^(\d{3})(?:\s+(\d\.\d{1,3}\.\d{1,3}))?(?:\s+(.*))?$/.exec(rest);
  if (!m) return { ...fallback, message: rest || fallback.message };
  const code = Number(m[1]);
  if (String(code)[0] !== range) throw new ActionSyntaxError(`reply code ${code} must be ${range}xx here`);
  const enhanced = m[2] ?? `${range}.7.1`;
  if (enhanced[0] !== range) throw new ActionSyntaxError(`enhanced code ${enhanced} does not match ${code}`);
  return { code, enhanced, message: m[3] || fallback.message };
}

export function parseAction(text: string): RuleAction {
  const trimmed = text.trim();
  const [verb = "", ...restParts] = trimmed.split(/\s+/);
  const rest = trimmed.slice(verb.length).trim();
  switch (verb.toLowerCase()) {
    case "accept":
    case "quarantine":
    case "discard":
    case "stop":
      if (rest) throw new ActionSyntaxError(`${verb} takes no argument`);
      return { kind: verb.toLowerCase() as "accept" | "quarantine" | "discard" | "stop" };
    case "reject":
      return {
        kind: "reject",
        reply: reply(rest, { code: 550, enhanced: "5.7.1", message: "Message rejected by policy" }, "5"),
      };
    case "tempfail":
      return {
        kind: "tempfail",
        reply: reply(rest, { code: 451, enhanced: "4.7.1", message: "Try again later" }, "4"),
      };
    case "tag": {
      const m = /^([!-9;-~]+):\s*(.*)$/.exec(rest);
      if (!m || /[\r\n]/.test(rest))
        throw new ActionSyntaxError(`tag needs "Header-Name: value", got ${JSON.stringify(rest)}`);
      return { kind: "tag", header: m[1]!, value: m[2]! };
    }
    case "deliver":
      if (!rest) throw new ActionSyntaxError("deliver needs a mailbox name");
      return { kind: "deliver", mailbox: rest };
    case "webhook":
      if (restParts.length !== 1) throw new ActionSyntaxError("webhook needs one endpoint name");
      return { kind: "webhook", name: rest };
    default:
      throw new ActionSyntaxError(`unknown action ${JSON.stringify(verb)}`);
  }
}
