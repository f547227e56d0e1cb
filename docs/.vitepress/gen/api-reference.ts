/**
 * The HTTP API reference, rendered from the OpenAPI document the edge serves at /api/openapi.json
 * (src/admin/openapi.ts), and the webhook payload from its zod schema (src/webhooks/payload.ts).
 */
import { openApiDocument } from "../../../src/admin/openapi.ts";
import { webhookPayloadJsonSchema } from "../../../src/webhooks/payload.ts";
import { cell, code, GENERATED_NOTE, table } from "./markdown.ts";
import { type FieldRow, type JsonSchema, SchemaWalker } from "./schema-table.ts";
import { srcDeclarations } from "./sources.ts";

interface Operation {
  summary?: string;
  parameters?: Array<{ name: string; in: string; required?: boolean }>;
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
  responses?: Record<string, { description?: string }>;
}

export interface OperationRef {
  method: string;
  path: string;
  op: Operation;
}

export function operations(doc = openApiDocument()): OperationRef[] {
  const paths = doc.paths as Record<string, Record<string, Operation>>;
  return Object.entries(paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({ method: method.toUpperCase(), path, op })),
  );
}

/** Every field of a JSON Schema as rows (nested tables flattened to dotted paths). */
export function schemaRows(schema: JsonSchema, rootDecl = ""): FieldRow[] {
  return new SchemaWalker(schema, srcDeclarations()).rows(rootDecl);
}

function fieldsTable(rows: FieldRow[]): string {
  return table(
    ["field", "type", "default", "description"],
    rows.map((r) => [
      cell(code(r.name)),
      cell(r.type),
      r.required ? "**required**" : cell(r.default),
      cell(r.description ?? ""),
    ]),
  );
}

/** The resource a path belongs to: `/api/domains/{domain}/dkim` → domains. */
const resource = (path: string) => path.split("/")[2] ?? path;

export function openApiMarkdown(): string {
  const doc = openApiDocument();
  const info = doc.info as { title: string; version: string };
  const parts = [
    GENERATED_NOTE("src/admin/openapi.ts (the document GET /api/openapi.json serves)"),
    `OpenAPI ${String(doc.openapi)} · ${cell(info.title)}, version ${info.version} · every route needs \`Authorization: Bearer <admin token>\` (401 without).`,
  ];
  let group = "";
  for (const { method, path, op } of operations(doc)) {
    if (resource(path) !== group) {
      group = resource(path);
      parts.push(`### ${group[0]?.toUpperCase()}${group.slice(1)}`);
    }
    parts.push(`#### ${code(`${method} ${path}`)}`);
    if (op.summary) parts.push(cell(op.summary));
    if (op.parameters?.length) {
      parts.push(
        table(
          ["parameter", "in", "required"],
          op.parameters.map((p) => [code(p.name), p.in, p.required ? "yes" : "no"]),
        ),
      );
    }
    const body = op.requestBody?.content?.["application/json"]?.schema;
    if (body) parts.push(`Request body (JSON):\n\n${fieldsTable(schemaRows(body))}`);
    const responses = Object.entries(op.responses ?? {}).map(
      ([status, r]) => `${code(status)} ${cell(r.description ?? "")}`,
    );
    if (responses.length > 0) parts.push(`Responses: ${responses.join(" · ")}`);
  }
  return `${parts.join("\n\n")}\n`;
}

export function webhookPayloadMarkdown(): string {
  const schema = webhookPayloadJsonSchema() as JsonSchema;
  return `${GENERATED_NOTE("src/webhooks/payload.ts (WebhookPayloadSchema, served at GET /api/webhooks/schema.json)")}\n\n${fieldsTable(schemaRows(schema, "src/webhooks/payload.ts#WebhookPayloadSchema"))}\n`;
}
