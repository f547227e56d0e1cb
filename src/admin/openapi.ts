/** The admin API's OpenAPI 3.1 document, with request bodies generated from the zod schemas the routes use. */
import { z } from "zod";
import { WebhookConfigSchema } from "../webhooks/config.ts";
import {
  AliasCreate,
  DkimCreate,
  DkimRotate,
  DomainCreate,
  DomainUpdate,
  PasswordChange,
  TokenCreate,
  UserCreate,
  UserImport,
} from "./api-schemas.ts";

type Op = { summary: string; body?: z.ZodType; params?: string[]; query?: string[]; status?: number };

const ROUTES: Record<string, Partial<Record<"get" | "post" | "put" | "patch" | "delete", Op>>> = {
  "/api/domains": {
    get: { summary: "List domains" },
    post: { summary: "Add a domain", body: DomainCreate, status: 201 },
  },
  "/api/domains/{domain}": {
    get: { summary: "A domain with its settings", params: ["domain"] },
    patch: {
      summary: "Change plus-addressing, MTA-STS, DMARC or TLS-RPT settings",
      body: DomainUpdate,
      params: ["domain"],
    },
    delete: { summary: "Remove a domain that has no users or aliases left", params: ["domain"] },
  },
  "/api/domains/{domain}/dns": {
    get: { summary: "The DNS records the domain needs, and as a zone file", params: ["domain"] },
  },
  "/api/domains/{domain}/dns/check": {
    get: { summary: "Compare live DNS with the needed records", params: ["domain"] },
  },
  "/api/domains/{domain}/dkim": {
    get: { summary: "DKIM keys", params: ["domain"] },
    post: { summary: "Generate a DKIM key", body: DkimCreate, params: ["domain"], status: 201 },
  },
  "/api/domains/{domain}/dkim/rotate": {
    post: {
      summary: "Replace the active key of an algorithm (without one: every active key); old keys are retired",
      body: DkimRotate,
      params: ["domain"],
    },
  },
  "/api/domains/{domain}/dkim/{selector}": {
    delete: { summary: "Remove a retired DKIM key", params: ["domain", "selector"] },
  },
  "/api/users": {
    get: { summary: "List users" },
    post: { summary: "Add a user", body: UserCreate, status: 201 },
  },
  "/api/users/import": { post: { summary: "Import users from a Dovecot passwd-file", body: UserImport } },
  "/api/users/{login}": { delete: { summary: "Remove a user and their mail", params: ["login"] } },
  "/api/users/{login}/password": {
    put: { summary: "Set a user's password", body: PasswordChange, params: ["login"] },
  },
  "/api/aliases": {
    get: { summary: "List aliases, catch-alls and discard addresses", query: ["domain"] },
    post: { summary: "Add an alias", body: AliasCreate, status: 201 },
  },
  "/api/aliases/{address}": { delete: { summary: "Remove an alias", params: ["address"] } },
  "/api/messages": {
    get: {
      summary: "Search stored messages, newest first (verdict: check:result, e.g. dmarc:fail)",
      query: ["limit", "offset", "from", "to", "subject", "since", "until", "verdict"],
    },
  },
  "/api/messages/{id}": {
    get: { summary: "One message's envelope, summary and authentication results", params: ["id"] },
  },
  "/api/messages/{id}/raw": { get: { summary: "The raw RFC 5322 message", params: ["id"] } },
  "/api/webhooks": {
    get: { summary: "Webhook endpoints" },
    post: { summary: "Add or replace a webhook endpoint", body: WebhookConfigSchema, status: 201 },
  },
  "/api/webhooks/{name}/test": { post: { summary: "Send a signed test delivery now", params: ["name"] } },
  "/api/deliveries": { get: { summary: "The webhook outbox", query: ["state", "message"] } },
  "/api/deliveries/{id}/attempts": { get: { summary: "Attempts of one delivery", params: ["id"] } },
  "/api/deliveries/{id}/redeliver": { post: { summary: "Queue a delivery again", params: ["id"] } },
  "/api/tokens": {
    get: { summary: "API tokens scoped to one domain (admin only)" },
    post: {
      summary: "Make a domain-scoped token; the token is in this answer only",
      body: TokenCreate,
      status: 201,
    },
  },
  "/api/tokens/{id}": { delete: { summary: "Revoke a scoped token", params: ["id"] } },
  "/api/stats": {
    get: {
      summary: "Received, refused and forwarded per hour; webhook success and latency; queues",
      query: ["hours"],
    },
  },
  "/api/rules": { get: { summary: "The configured rules in evaluation order (admin only)" } },
};

export function openApiDocument(): Record<string, unknown> {
  const error = {
    description: "Invalid request",
    content: {
      "application/json": {
        schema: {
          type: "object",
          properties: {
            error: { type: "string" },
            issues: {
              type: "array",
              items: {
                type: "object",
                properties: { path: { type: "string" }, message: { type: "string" } },
              },
            },
          },
        },
      },
    },
  };
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [path, ops] of Object.entries(ROUTES)) {
    paths[path] = {};
    for (const [method, op] of Object.entries(ops)) {
      const parameters = [
        ...(op.params ?? []).map((name) => ({
          name,
          in: "path",
          required: true,
          schema: { type: "string" },
        })),
        ...(op.query ?? []).map((name) => ({
          name,
          in: "query",
          required: false,
          schema: { type: "string" },
        })),
      ];
      (paths[path] as Record<string, unknown>)[method] = {
        summary: op.summary,
        ...(parameters.length > 0 ? { parameters } : {}),
        ...(op.body
          ? {
              requestBody: {
                required: true,
                content: {
                  "application/json": {
                    schema: z.toJSONSchema(op.body, { io: "input", unrepresentable: "any" }),
                  },
                },
              },
            }
          : {}),
        responses: {
          [String(op.status ?? 200)]: { description: "OK", content: { "application/json": {} } },
          "400": error,
          "401": { description: "Missing or wrong token" },
          "403": { description: "Not allowed with a domain-scoped token" },
          "404": { description: "Not found (or outside the token's domain)" },
          "409": { description: "Already exists" },
        },
      };
    }
  }
  return {
    openapi: "3.1.0",
    info: { title: "mxedge admin API", version: "1" },
    components: { securitySchemes: { admin: { type: "http", scheme: "bearer" } } },
    security: [{ admin: [] }],
    paths,
  };
}
