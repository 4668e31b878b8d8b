#!/usr/bin/env python3.11
"""Regenerate the G.711 mu-law reference vectors in tests/fixtures/audio/.

Requires CPython 3.11 or 3.12 (the `audioop` module was removed in 3.13).

Files written (all little-endian, indexed from i16 -32768 upward):
  ulaw_decode_audioop.bin  256 x i16   audioop.ulaw2lin for codes 0..=255
  ulaw_encode_audioop.bin  65536 x u8  audioop.lin2ulaw for every i16
  ulaw_encode_g191.bin     65536 x u8  the ITU-T G.191 (STL) `ulaw_compress`
                                       algorithm, re-implemented below

audioop (the Sun/CCITT g711.c lineage, also used by SoX) takes the magnitude of a
negative sample as -(x >> 2) (two's complement), while the ITU G.191 reference uses
(~x) >> 2 (one's complement). The two therefore disagree by one quantisation step
on some negative inputs. Switchboard matches G.191 (what telephone gear uses) and
its tests check audioop agreement everywhere else.
"""
import audioop  # noqa: deprecated in 3.11, still present
import os
import struct
import sys

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "audio")


def g191_ulaw_compress(x: int) -> int:
    """ITU-T G.191 ulaw_compress for one 16-bit left-justified sample."""
    absno = ((~x) >> 2) + 33 if x < 0 else (x >> 2) + 33
    if absno > 0x1FFF:
        absno = 0x1FFF
    i = absno >> 6
    segno = 1
    while i != 0:
        segno += 1
        i >>= 1
    high = 0x8 - segno
    low = 0xF - ((absno >> segno) & 0xF)
    code = (high << 4) | low
    if x >= 0:
        code |= 0x80
    return code


def main() -> None:
    if sys.version_info >= (3, 13):
        sys.exit("needs Python <= 3.12 for audioop")
    os.makedirs(OUT, exist_ok=True)
    values = range(-32768, 32768)
    pcm = struct.pack("<65536h", *values)
    enc_audioop = audioop.lin2ulaw(pcm, 2)
    dec_audioop = audioop.ulaw2lin(bytes(range(256)), 2)
    enc_g191 = bytes(g191_ulaw_compress(x) for x in values)
    for name, data in [
        ("ulaw_decode_audioop.bin", dec_audioop),
        ("ulaw_encode_audioop.bin", enc_audioop),
        ("ulaw_encode_g191.bin", enc_g191),
    ]:
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
        print(f"wrote {name} ({len(data)} bytes)")
    diff = sum(1 for a, b in zip(enc_audioop, enc_g191) if a != b)
    print(f"audioop vs G.191 encode: {diff} of 65536 inputs differ")


if __name__ == "__main__":
    main()
