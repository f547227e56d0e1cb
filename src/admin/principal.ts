/**
 * Who is calling the admin API: the admin (the admin token), a domain admin (a token scoped to one
 * domain), or a mailbox user (signed in to the dashboard with their own password). Every route asks
 * these helpers; what is outside a principal's scope answers 403 (an operation they may never do) or
 * 404 (a thing they may not see), never its data.
 */
export type Principal =
  | { kind: "admin" }
  | { kind: "domain"; domain: string; tokenId: number }
  | { kind: "user"; userId: number; login: string };

/** The lower-cased domain of `local@domain`; "" when there is none. */
export function domainOf(address: string): string {
  const at = address.lastIndexOf("@");
  return at < 0
    ? ""
    : address
        .slice(at + 1)
        .trim()
        .toLowerCase()
        .replace(/\.$/, "");
}

/** True when the principal may see and change `domain` (and what is in it). */
export function mayManageDomain(p: Principal, domain: string): boolean {
  if (p.kind === "admin") return true;
  if (p.kind === "domain") return p.domain === domain.trim().toLowerCase().replace(/\.$/, "");
  return false;
}

/** The domain a listing is limited to: undefined for the admin (everything). */
export function scopeDomain(p: Principal): string | undefined {
  return p.kind === "domain" ? p.domain : undefined;
}

/** What a principal's listings are limited to (the store's StatsScope / MessageFilter scope). */
export function storeScope(p: Principal): { domain?: string; userId?: number } {
  if (p.kind === "domain") return { domain: p.domain };
  if (p.kind === "user") return { userId: p.userId };
  return {};
}

export function describePrincipal(p: Principal): string {
  if (p.kind === "admin") return "admin";
  if (p.kind === "domain") return `domain admin of ${p.domain}`;
  return p.login;
}
