/** A store operation refused for a reason the caller should show to a person (duplicate, not found, …). */
export class StoreError extends Error {
  readonly code: "exists" | "not-found" | "invalid";
  constructor(code: "exists" | "not-found" | "invalid", message: string) {
    super(message);
    this.name = "StoreError";
    this.code = code;
  }
}
