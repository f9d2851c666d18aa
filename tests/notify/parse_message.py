#!/usr/bin/python3
"""Parses a message with Python's own e-mail package (a MIME parser independent of paaskit) and
prints what a mail client would see, as JSON: the decoded headers, every leaf part (its type,
charset, file name and decoded text, or the size and SHA-256 of binary content), the structure,
and every defect the parser found."""
import email
import email.policy
import hashlib
import json
import sys

data = open(sys.argv[1], "rb").read()
try:
    # RFC 6532: header fields may hold UTF-8 (addresses beyond ASCII); from bytes, Python would
    # keep those as surrogate escapes.
    msg = email.message_from_string(data.decode("utf-8"), policy=email.policy.default)
except UnicodeDecodeError:
    msg = email.message_from_bytes(data, policy=email.policy.default)
out = {
    "headers": {k: str(v) for k, v in msg.items()},
    "to_addresses": [a.addr_spec for a in msg["To"].addresses] if msg["To"] else [],
    "to_names": [a.display_name for a in msg["To"].addresses] if msg["To"] else [],
    "from_name": msg["From"].addresses[0].display_name if msg["From"] else "",
    "structure": [],
    "parts": [],
    "defects": [type(d).__name__ for d in msg.defects],
    "longest_line": max(len(l) for l in data.split(b"\r\n")),
    "bare_lf": b"\n" in data.replace(b"\r\n", b""),
}
for part in msg.walk():
    out["structure"].append(part.get_content_type())
    out["defects"] += [type(d).__name__ for d in part.defects]
    if part.is_multipart():
        continue
    entry = {"content_type": part.get_content_type(), "charset": part.get_content_charset(),
             "filename": part.get_filename(), "disposition": part.get_content_disposition()}
    content = part.get_content()
    if isinstance(content, str):
        entry["text"] = content.replace("\r\n", "\n")  # a reader's line ends, whichever the parser kept
    else:
        entry["size"] = len(content)
        entry["sha256"] = hashlib.sha256(content).hexdigest()
    out["parts"].append(entry)
print(json.dumps(out))
