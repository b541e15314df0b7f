"""Hand-written protobuf encoding of pprof profiles and Connect PushRequests (no dependencies).

Spec: https://github.com/google/pprof/blob/main/proto/profile.proto and Pyroscope's
api/push/v1/push.proto (PushRequest{series=1}, RawProfileSeries{labels=1, samples=2},
RawSample{raw_profile=1, ID=2}, LabelPair{name=1, value=2}).
"""

from __future__ import annotations

import gzip
import uuid
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

# A frame as the encoder sees it: (function name, file name, function start line, line).
FrameKey = Tuple[str, str, int, int]
# Leaf-first frames of one stack.
StackKey = Tuple[FrameKey, ...]
# Sample labels as sorted (key, value) pairs.
LabelsKey = Tuple[Tuple[str, str], ...]


def _varint(value: int, out: bytearray) -> None:
    if value < 0:
        value += 1 << 64  # protobuf int64: two's complement in ten bytes
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)


def _key(field_number: int, wire_type: int, out: bytearray) -> None:
    _varint((field_number << 3) | wire_type, out)


def _field_varint(field_number: int, value: int, out: bytearray) -> None:
    if value:
        _key(field_number, 0, out)
        _varint(value, out)


def _field_bytes(field_number: int, data: bytes, out: bytearray) -> None:
    _key(field_number, 2, out)
    _varint(len(data), out)
    out += data


def _field_packed(field_number: int, values: Iterable[int], out: bytearray) -> None:
    body = bytearray()
    for v in values:
        _varint(v, body)
    if body:
        _field_bytes(field_number, bytes(body), out)


@dataclass
class ProfileBuilder:
    """Accumulates samples of one profile and encodes them as an (uncompressed) pprof message.

    sample_types are (type, unit) pairs; every added sample carries one value per sample type.
    """

    sample_types: Sequence[Tuple[str, str]]
    period_type: Tuple[str, str]
    period: int
    time_nanos: int = 0
    duration_nanos: int = 0
    _strings: Dict[str, int] = field(default_factory=lambda: {"": 0})
    _functions: Dict[Tuple[str, str, int], int] = field(default_factory=dict)
    _locations: Dict[Tuple[int, int], int] = field(default_factory=dict)
    _samples: Dict[Tuple[Tuple[int, ...], LabelsKey], List[int]] = field(default_factory=dict)

    def _string(self, s: str) -> int:
        index = self._strings.get(s)
        if index is None:
            index = len(self._strings)
            self._strings[s] = index
        return index

    def _location(self, frame: FrameKey) -> int:
        name, filename, start_line, line = frame
        fkey = (name, filename, start_line)
        function_id = self._functions.get(fkey)
        if function_id is None:
            function_id = len(self._functions) + 1
            self._functions[fkey] = function_id
        lkey = (function_id, line)
        location_id = self._locations.get(lkey)
        if location_id is None:
            location_id = len(self._locations) + 1
            self._locations[lkey] = location_id
        return location_id

    def add(self, stack: StackKey, values: Sequence[int], labels: LabelsKey = ()) -> None:
        """Adds values (one per sample type) to the sample of this leaf-first stack and label set."""
        if len(values) != len(self.sample_types):
            raise ValueError(f"expected {len(self.sample_types)} values, got {len(values)}")
        locations = tuple(self._location(f) for f in stack)
        key = (locations, labels)
        existing = self._samples.get(key)
        if existing is None:
            self._samples[key] = list(values)
        else:
            for i, v in enumerate(values):
                existing[i] += v

    @property
    def sample_count(self) -> int:
        return len(self._samples)

    def encode(self) -> bytes:
        out = bytearray()
        for type_name, unit in self.sample_types:
            vt = bytearray()
            _field_varint(1, self._string(type_name), vt)
            _field_varint(2, self._string(unit), vt)
            _field_bytes(1, bytes(vt), out)
        for (locations, labels), values in self._samples.items():
            s = bytearray()
            _field_packed(1, locations, s)
            _field_packed(2, values, s)
            for k, v in labels:
                lb = bytearray()
                _field_varint(1, self._string(k), lb)
                _field_varint(2, self._string(v), lb)
                _field_bytes(3, bytes(lb), s)
            _field_bytes(2, bytes(s), out)
        for (function_id, line), location_id in self._locations.items():
            ln = bytearray()
            _field_varint(1, function_id, ln)
            _field_varint(2, line, ln)
            loc = bytearray()
            _field_varint(1, location_id, loc)
            _field_bytes(4, bytes(ln), loc)
            _field_bytes(4, bytes(loc), out)
        for (name, filename, start_line), function_id in self._functions.items():
            fn = bytearray()
            _field_varint(1, function_id, fn)
            _field_varint(2, self._string(name), fn)
            _field_varint(3, self._string(name), fn)
            _field_varint(4, self._string(filename), fn)
            _field_varint(5, start_line, fn)
            _field_bytes(5, bytes(fn), out)
        pt = bytearray()
        _field_varint(1, self._string(self.period_type[0]), pt)
        _field_varint(2, self._string(self.period_type[1]), pt)
        # Every string is interned by now; the table is written after the fields that reference it,
        # which protobuf allows (field order on the wire is free).
        for s in self._strings:
            _field_bytes(6, s.encode("utf-8", "replace"), out)
        _field_varint(9, self.time_nanos, out)
        _field_varint(10, self.duration_nanos, out)
        _field_bytes(11, bytes(pt), out)
        _field_varint(12, self.period, out)
        return bytes(out)


@dataclass
class Series:
    """One RawProfileSeries of a push: series labels (incl. __name__ and service_name) and a pprof."""

    labels: Sequence[Tuple[str, str]]
    pprof: bytes


def encode_push_request(series: Sequence[Series], sample_id: Optional[str] = None) -> bytes:
    """Encodes push.v1.PushRequest (uncompressed); each series gets one RawSample with a uuid4 ID."""
    out = bytearray()
    for s in series:
        body = bytearray()
        for name, value in s.labels:
            lp = bytearray()
            _field_bytes(1, name.encode("utf-8", "replace"), lp)
            _field_bytes(2, value.encode("utf-8", "replace"), lp)
            _field_bytes(1, bytes(lp), body)
        raw = bytearray()
        _field_bytes(1, s.pprof, raw)
        _field_bytes(2, (sample_id or str(uuid.uuid4())).encode(), raw)
        _field_bytes(2, bytes(raw), body)
        _field_bytes(1, bytes(body), out)
    return bytes(out)


def gzip_bytes(data: bytes) -> bytes:
    # Level 6 is zlib's default: ~5x on pprof, a few ms for a typical 10 s profile.
    return gzip.compress(data, compresslevel=6, mtime=0)


def series_labels(metric: str, global_tags: Mapping[str, str], application_name: str) -> List[Tuple[str, str]]:
    """Series labels in pyroscope-io's order: __name__ first, then global tags, then service_name."""
    labels = [("__name__", metric)]
    for k, v in global_tags.items():
        if k != "__name__":
            labels.append((k, v))
    if "service_name" not in global_tags:
        labels.append(("service_name", application_name))
    return labels
