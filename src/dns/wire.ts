/** The minimum of the DNS wire format (RFC 1035) that a DoH stub resolver needs: one query, its answers. */
import type { MxRecord } from "./resolver.ts";

export interface WireAnswer {
  type: number;
  /** TXT: its character-strings; MX: the record; A/AAAA: the address; names: the target name. */
  data: string | string[] | MxRecord;
}

export function encodeQuery(name: string, type: number, id = 0): Uint8Array {
  const labels = name.split(".").filter(Boolean);
  const enc = new TextEncoder();
  const parts = labels.map((l) => enc.encode(l));
  if (parts.some((p) => p.length > 63)) throw new RangeError(`label too long in ${name}`);
  const qname = parts.reduce((n, p) => n + 1 + p.length, 1);
  const out = new Uint8Array(12 + qname + 4);
  const view = new DataView(out.buffer);
  view.setUint16(0, id);
  view.setUint16(2, 0x0100); // RD
  view.setUint16(4, 1); // QDCOUNT
  let off = 12;
  for (const p of parts) {
    out[off++] = p.length;
    out.set(p, off);
    off += p.length;
  }
  out[off++] = 0;
  view.setUint16(off, type);
  view.setUint16(off + 2, 1); // IN
  return out;
}

function readName(buf: Uint8Array, start: number): { name: string; next: number } {
  const labels: string[] = [];
  let off = start;
  let next = -1;
  for (let hops = 0; hops < 64; hops++) {
    const len = buf[off];
    if (len === undefined) throw new RangeError("truncated name");
    if (len === 0) {
      return { name: labels.join("."), next: next === -1 ? off + 1 : next };
    }
    if ((len & 0xc0) === 0xc0) {
      const ptr = ((len & 0x3f) << 8) | (buf[off + 1] ?? 0);
      if (next === -1) next = off + 2;
      off = ptr;
      continue;
    }
    labels.push(new TextDecoder().decode(buf.subarray(off + 1, off + 1 + len)));
    off += 1 + len;
  }
  throw new RangeError("name compression loop");
}

export function decodeAnswer(buf: Uint8Array): { rcode: number; answers: WireAnswer[] } {
  if (buf.length < 12) throw new RangeError("short DNS message");
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const rcode = view.getUint16(2) & 0x0f;
  const qd = view.getUint16(4);
  const an = view.getUint16(6);
  let off = 12;
  for (let i = 0; i < qd; i++) off = readName(buf, off).next + 4;
  const answers: WireAnswer[] = [];
  for (let i = 0; i < an; i++) {
    off = readName(buf, off).next;
    const type = view.getUint16(off);
    const rdlen = view.getUint16(off + 8);
    const rd = off + 10;
    if (rd + rdlen > buf.length) throw new RangeError("truncated record");
    let data: WireAnswer["data"];
    if (type === 1) data = Array.from(buf.subarray(rd, rd + 4)).join(".");
    else if (type === 28) {
      const words: string[] = [];
      for (let w = 0; w < 8; w++) words.push(view.getUint16(rd + w * 2).toString(16));
      data = words
        .join(":")
        .replace(/(^|:)0(:0)+(:|$)/, "::")
        .replace(/:{3,}/, "::");
    } else if (type === 16) {
      const strings: string[] = [];
      for (let p = rd; p < rd + rdlen; ) {
        const l = buf[p] ?? 0;
        strings.push(new TextDecoder().decode(buf.subarray(p + 1, p + 1 + l)));
        p += 1 + l;
      }
      data = strings;
    } else if (type === 15) data = { priority: view.getUint16(rd), exchange: readName(buf, rd + 2).name };
    else data = readName(buf, rd).name;
    answers.push({ type, data });
    off = rd + rdlen;
  }
  return { rcode, answers };
}
