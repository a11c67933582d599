"""The DVIC wire protocol (Spec/protocol.md) for the Python test agent.

Generic over Spec/messages.json, which it reads at import: every plain message is
encoded and decoded from the Spec's own field table; metricDescriptors, metricSample
and logBatch have their section-5.2 layouts. Enough of a codec for an agent: the
dashboard's own codec (codec.js) is what is under test, not this one.
"""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SPEC = json.loads((ROOT / "Spec" / "messages.json").read_text())
DICTIONARIES = {1: (ROOT / "Spec" / "dictionaries" / "1.txt").read_bytes()}

ENUMS = {name: e["values"] for name, e in SPEC["enums"].items()}
ENUM_NAMES = {name: {v: k for k, v in values.items()} for name, values in ENUMS.items()}
STRUCTS = {name: s["fields"] for name, s in SPEC["structs"].items()}
BY_CODE = {m["code"]: m for m in SPEC["messages"]}
BY_NAME = {m["name"]: m for m in SPEC["messages"]}
MAX_PAYLOAD = 4 << 20


class ProtocolError(Exception):
    pass


# ---- writing ------------------------------------------------------------------------

def varint(n: int) -> bytes:
    if n < 0:
        raise ProtocolError(f"varint {n}")
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def zigzag(n: int) -> bytes:
    n = ((n + (1 << 63)) % (1 << 64)) - (1 << 63)  # wrap to int64
    return varint((n << 1) ^ (n >> 63) if n >= 0 else ((-n) << 1) - 1)


def string(s: str) -> bytes:
    b = s.encode("utf-8")
    return varint(len(b)) + b


def write_value(kind: str, v) -> bytes:
    if kind == "u8":
        return bytes([v])
    if kind == "bool":
        return b"\x01" if v else b"\x00"
    if kind in ("varint", "u32"):
        return varint(int(v))
    if kind in ("int", "time"):
        return zigzag(int(v))
    if kind == "f64":
        return struct.pack(">d", v)
    if kind == "string":
        return string(v)
    if kind == "bytes" or kind.startswith("bytes:"):
        b = bytes(v)
        return varint(len(b)) + b
    if kind == "strings":
        return varint(len(v)) + b"".join(string(s) for s in v)
    if kind == "varints":
        return varint(len(v)) + b"".join(varint(n) for n in v)
    if kind == "pairs":
        items = list(v.items()) if isinstance(v, dict) else [(p["key"], p["value"]) for p in v]
        return varint(len(items)) + b"".join(string(k) + string(val) for k, val in items)
    if kind.startswith("enum:"):
        return bytes([ENUMS[kind[5:]][v]])
    if kind.startswith("list:"):
        fields = STRUCTS[kind[5:]]
        return varint(len(v)) + b"".join(write_fields(fields, item) for item in v)
    raise ValueError(kind)


def write_fields(fields, obj) -> bytes:
    return b"".join(write_value(kind, obj[name]) for name, kind in fields)


def quantize(value: float, scale: int) -> int:
    scaled = value * 10**scale if scale >= 0 else value / 10 ** (-scale)
    return int(scaled + 0.5) if scaled >= 0 else -int(-scaled + 0.5)


class Encoder:
    """One per connection direction: it holds the metric delta state."""

    def __init__(self, deflate_threshold: int = 256):
        self.scales: dict[int, int] = {}
        self.previous: dict[int, int] = {}
        self.threshold = deflate_threshold

    def payload(self, m: dict) -> bytes:
        name = m["type"]
        if name == "metricDescriptors":
            for d in m["descriptors"]:
                self.scales[d["id"]] = d["scale"]
                self.previous[d["id"]] = 0
            return write_value("list:MetricDescriptor", m["descriptors"])
        if name == "metricSample":
            values = [v for v in m["values"] if v["value"] == v["value"] and abs(v["value"]) != float("inf")]
            runs: list[list[dict]] = []
            for v in values:
                if runs and runs[-1][-1]["id"] + 1 == v["id"]:
                    runs[-1].append(v)
                else:
                    runs.append([v])
            out = bytearray(zigzag(m["timestamp"]) + varint(len(runs)))
            for run in runs:
                out += varint(run[0]["id"]) + varint(len(run))
                for v in run:
                    q = quantize(v["value"], self.scales[v["id"]])
                    out += zigzag(q - self.previous[v["id"]])
                    self.previous[v["id"]] = q
            return bytes(out)
        if name == "logBatch":
            out = bytearray(varint(m["streamID"]) + varint(m["firstSeq"]) + varint(len(m["records"])))
            previous = 0
            for r in m["records"]:
                out += zigzag(r["timestamp"] - previous)
                previous = r["timestamp"]
                out += bytes([ENUMS["Severity"][r["severity"]]]) + string(r["text"])
            return bytes(out)
        return write_fields(BY_NAME[name]["fields"], m)

    def encode(self, messages: list[dict]) -> bytes:
        out = bytearray()
        for m in messages:
            payload = self.payload(m)
            flags = 0x10
            if len(payload) >= self.threshold:
                packed = zlib.compress(payload)
                if len(packed) < len(payload):
                    payload, flags = packed, 0x11
            out += struct.pack(">IBB", len(payload) + 2, flags, BY_NAME[m["type"]]["code"]) + payload
        return bytes(out)


# ---- reading ------------------------------------------------------------------------

class Reader:
    def __init__(self, data: bytes):
        self.data = data
        self.i = 0

    def byte(self) -> int:
        if self.i >= len(self.data):
            raise ProtocolError("truncated")
        b = self.data[self.i]
        self.i += 1
        return b

    def varint(self) -> int:
        result = shift = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            if b < 0x80:
                return result
            shift += 7
            if shift > 63:
                raise ProtocolError("bad_varint")

    def int(self) -> int:
        raw = self.varint()
        return (raw >> 1) ^ -(raw & 1)

    def take(self, n: int) -> bytes:
        if self.i + n > len(self.data):
            raise ProtocolError("truncated")
        b = self.data[self.i:self.i + n]
        self.i += n
        return b

    def value(self, kind: str):
        if kind == "u8":
            return self.byte()
        if kind == "bool":
            return self.byte() == 1
        if kind in ("varint", "u32"):
            return self.varint()
        if kind in ("int", "time"):
            return self.int()
        if kind == "f64":
            return struct.unpack(">d", self.take(8))[0]
        if kind == "string":
            return self.take(self.varint()).decode("utf-8")
        if kind == "bytes" or kind.startswith("bytes:"):
            return self.take(self.varint())
        if kind == "strings":
            return [self.value("string") for _ in range(self.varint())]
        if kind == "varints":
            return [self.varint() for _ in range(self.varint())]
        if kind == "pairs":
            return {self.value("string"): self.value("string") for _ in range(self.varint())}
        if kind.startswith("enum:"):
            return ENUM_NAMES[kind[5:]][self.byte()]
        if kind.startswith("list:"):
            fields = STRUCTS[kind[5:]]
            return [{name: self.value(k) for name, k in fields} for _ in range(self.varint())]
        raise ValueError(kind)


def decode(data: bytes) -> list[dict]:
    """Every frame of one WebSocket message; unknown types are skipped."""
    out = []
    i = 0
    while i < len(data):
        if len(data) - i < 6:
            raise ProtocolError("incomplete_message")
        length, flags, code = struct.unpack(">IBB", data[i:i + 6])
        payload = data[i + 6:i + 4 + length]
        i += 4 + length
        if flags >> 4 != 1:
            raise ProtocolError("unsupported_version")
        if code not in BY_CODE:
            continue
        if flags & 1:
            dictionary = (flags >> 1) & 3
            d = zlib.decompressobj(zdict=DICTIONARIES[dictionary]) if dictionary else zlib.decompressobj()
            payload = d.decompress(payload, MAX_PAYLOAD)
        spec = BY_CODE[code]
        r = Reader(payload)
        if spec.get("custom"):
            continue  # only agents send those; the server never does
        m = {"type": spec["name"]}
        for name, kind in spec["fields"]:
            m[name] = r.value(kind)
        out.append(m)
    return out
