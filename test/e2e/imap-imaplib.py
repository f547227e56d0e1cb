"""Drives mxedge's IMAP server with Python's imaplib (a real client); prints one JSON object of results.

usage: imap-imaplib.py IMAP_PORT IMAPS_PORT USER PASSWORD
"""
import base64
import imaplib
import json
import ssl
import sys

imap_port, imaps_port, user, password = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
imaplib.Commands.setdefault("MOVE", ("SELECTED",))
out = {}

MULTIPART = (
    b"From: Alice <alice@example.test>\r\n"
    b"To: someone@example.test\r\n"
    b"Subject: multipart test\r\n"
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="XYZ"\r\n'
    b"\r\n"
    b"preamble\r\n"
    b"--XYZ\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"\r\n"
    b"Hello part one.\r\n"
    b"--XYZ\r\n"
    b"Content-Type: application/octet-stream; name=a.bin\r\n"
    b"Content-Transfer-Encoding: base64\r\n"
    b"Content-Disposition: attachment; filename=a.bin\r\n"
    b"\r\n"
    b"AAECAw==\r\n"
    b"--XYZ--\r\n"
)


def ok(res):
    typ, data = res
    assert typ == "OK", (typ, data)
    return data


# 1. Plaintext port: LOGINDISABLED until STARTTLS; then LOGIN.
m = imaplib.IMAP4("127.0.0.1", imap_port)
out["plainCaps"] = sorted(m.capabilities)
try:
    m.login(user, password)
    out["plainLogin"] = "accepted"
except imaplib.IMAP4.error as e:
    out["plainLogin"] = str(e)
m.starttls(ctx)
out["tlsCaps"] = sorted(m.capabilities)
ok(m.login(user, password))
out["list"] = [l.decode() for l in ok(m.list())]
out["selectExists"] = int(ok(m.select("INBOX"))[0])

# 2. Bodies, byte-exact, without setting \Seen; then BODY[] sets it.
data = ok(m.uid("FETCH", "1:*", "(UID RFC822.SIZE BODY.PEEK[])"))
bodies = {}
for item in data:
    if isinstance(item, tuple):
        head = item[0].decode()
        uid = head.split("UID ")[1].split(" ")[0]
        bodies[uid] = base64.b64encode(item[1]).decode()
out["bodies"] = bodies
out["flagsAfterPeek"] = [d.decode() for d in ok(m.fetch("1", "(FLAGS)"))]
ok(m.fetch("1", "(BODY[])"))
out["flagsAfterBody"] = [d.decode() for d in ok(m.fetch("1", "(FLAGS)"))]
hdr = ok(m.fetch("2", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)] ENVELOPE INTERNALDATE)"))
out["headerFields"] = hdr[0][1].decode()
out["envelopeLine"] = ok(m.fetch("2", "(ENVELOPE INTERNALDATE)"))[0].decode()

# 3. SEARCH
out["searchSubject"] = ok(m.search(None, "SUBJECT", '"second"'))[0].decode()
out["searchUnseen"] = ok(m.search(None, "UNSEEN"))[0].decode()
out["searchNotSeen"] = ok(m.uid("SEARCH", "NOT", "SEEN"))[0].decode()
out["searchBody"] = ok(m.search(None, "BODY", "smtplib"))[0].decode()
out["searchOr"] = ok(m.search(None, "OR", "SUBJECT", "first", "SUBJECT", "second"))[0].decode()
out["searchLarger"] = ok(m.search(None, "LARGER", "100000"))[0].decode()
out["searchSince"] = ok(m.search(None, "SINCE", "1-Jan-2020", "FROM", "alice"))[0].decode()

# 4. STORE
out["storeAdd"] = [d.decode() for d in ok(m.store("1:2", "+FLAGS", "(\\Flagged $Work)"))]
out["storeRemove"] = [d.decode() for d in ok(m.store("2", "-FLAGS", "(\\Flagged)"))]
out["searchFlagged"] = ok(m.search(None, "FLAGGED"))[0].decode()
out["searchKeyword"] = ok(m.search(None, "KEYWORD", "$Work"))[0].decode()

# 5. APPEND a multipart message with flags and a date, then read its structure and parts.
res = ok(m.append("INBOX", "(\\Seen)", '"01-Feb-2024 10:00:00 +0100"', MULTIPART))
out["append"] = res[0].decode()
ok(m.noop())
n = int(ok(m.select("INBOX"))[0])
out["afterAppendExists"] = n
parts = ok(m.fetch(str(n), "(INTERNALDATE BODYSTRUCTURE BODY.PEEK[1] BODY.PEEK[2.MIME] BODY.PEEK[2] BODY.PEEK[]<0.4>)"))
out["appendedFetch"] = [p[0].decode() if isinstance(p, tuple) else p.decode() for p in parts]
out["appendedParts"] = [base64.b64encode(p[1]).decode() for p in parts if isinstance(p, tuple)]

# 6. COPY, MOVE, EXPUNGE
out["copy"] = ok(m.copy("1", "Trash"))[0].decode()
typ, data = m._simple_command("MOVE", str(n), "Archive")
out["moveMissing"] = typ + " " + data[0].decode()
ok(m.create("Archive"))
typ, data = m._simple_command("MOVE", str(n), "Archive")
out["move"] = typ
out["moveUntagged"] = [d.decode() for d in m.untagged_responses.pop("EXPUNGE", [])]
ok(m.store("2", "+FLAGS.SILENT", "(\\Deleted)"))
out["expunge"] = [d.decode() for d in ok(m.expunge())]
out["status"] = ok(m.status("Trash", "(MESSAGES UNSEEN UIDNEXT)"))[0].decode()
out["statusArchive"] = ok(m.status("Archive", "(MESSAGES)"))[0].decode()
out["finalExists"] = int(ok(m.select("INBOX"))[0])
m.logout()

# 7. IMAPS (implicit TLS) with AUTHENTICATE PLAIN
s = imaplib.IMAP4_SSL("127.0.0.1", imaps_port, ssl_context=ctx)
out["imapsCaps"] = sorted(s.capabilities)
ok(s.authenticate("PLAIN", lambda _: f"\0{user}\0{password}".encode()))
out["imapsExamine"] = int(ok(s.select("Trash", readonly=True))[0])
typ, data = s.store("1", "+FLAGS", "(\\Seen)")
out["readOnlyStore"] = typ + " " + data[0].decode()
s.logout()
bad = imaplib.IMAP4_SSL("127.0.0.1", imaps_port, ssl_context=ctx)
try:
    bad.login(user, "wrong-password")
    out["badLogin"] = "accepted"
except imaplib.IMAP4.error as e:
    out["badLogin"] = str(e)
bad.logout()
print(json.dumps(out))
