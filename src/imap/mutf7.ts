/** Modified UTF-7 mailbox names (RFC 3501 §5.1.3) for clients that have not enabled UTF8=ACCEPT. */

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

export function encodeMutf7(name: string): string {
  let out = "";
  let pending: number[] = [];
  const flush = () => {
    if (pending.length === 0) return;
    const bytes: number[] = [];
    for (const u of pending) bytes.push(u >> 8, u & 0xff);
    let bits = 0;
    let acc = 0;
    let s = "&";
    for (const b of bytes) {
      acc = (acc << 8) | b;
      bits += 8;
      while (bits >= 6) {
        bits -= 6;
        s += B64[(acc >> bits) & 63];
      }
    }
    if (bits > 0) s += B64[(acc << (6 - bits)) & 63];
    out += `${s}-`;
    pending = [];
  };
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 0x20 && c <= 0x7e) {
      flush();
      out += c === 0x26 ? "&-" : name[i];
    } else pending.push(c);
  }
  flush();
  return out;
}

export function decodeMutf7(name: string): string {
  return name.replace(/&([^-]*)-/g, (_m, b64: string) => {
    if (b64 === "") return "&";
    let bits = 0;
    let acc = 0;
    const units: number[] = [];
    let bytes: number[] = [];
    for (const ch of b64) {
      const v = B64.indexOf(ch);
      if (v < 0) return _m;
      acc = (acc << 6) | v;
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        bytes.push((acc >> bits) & 0xff);
        if (bytes.length === 2) {
          units.push(((bytes[0] as number) << 8) | (bytes[1] as number));
          bytes = [];
        }
      }
    }
    return String.fromCharCode(...units);
  });
}
