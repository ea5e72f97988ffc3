"""Masking of personal data in check evidence, reports and logs (reveal only on explicit request)."""


def mask(value: object, kind: str | None = None) -> str | None:
    """Names keep their first character, ID cards their region and last digit, phones their last 4."""
    if value is None:
        return None
    s = str(value)
    if kind == "name":
        return s[:1] + "*" * max(len(s) - 1, 1)
    if kind == "id_card":
        return s[:6] + "*" * max(len(s) - 7, 0) + s[-1:] if len(s) > 7 else "*" * len(s)
    if kind == "phone":
        return "*" * max(len(s) - 4, 0) + s[-4:]
    return s
