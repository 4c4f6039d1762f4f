"""A message's raw bytes cut into header fields and body, without parsing (and so without
changing) anything: for the steps that add or replace a few headers and keep the rest."""


def split_raw(raw: bytes) -> tuple[list[bytes], bytes]:
    """Header fields (each with its folded continuation lines) and the body bytes."""
    ends = [i for i in (raw.find(b"\r\n\r\n"), raw.find(b"\n\n")) if i >= 0]
    if not ends:
        head, body = raw, b""
    else:
        cut = min(ends)
        sep = b"\r\n\r\n" if raw.startswith(b"\r\n\r\n", cut) else b"\n\n"
        head, body = raw[:cut], raw[cut + len(sep):]
    fields: list[bytes] = []
    for line in head.replace(b"\r\n", b"\n").split(b"\n"):
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] += b"\r\n" + line
        elif line:
            fields.append(line)
    return fields, body


def field_name(field: bytes) -> str:
    return field.split(b":", 1)[0].strip().decode("ascii", "replace").lower()
