"""SM4 encryption of the CP area (HJ 212-2025 §6.4 and Appendix A.2).

The characters between ``CP=&&`` and the closing ``&&`` are encrypted with SM4 (128-bit
key) in ECB mode without padding: every complete 16-byte group is encrypted, a shorter
tail stays plain. The ciphertext is written as ``{0xE4,0x3E,...}`` followed by the plain
tail. The CRC covers the *plaintext* segment, and the length field of the standard's
examples holds the plaintext length (the framer finds the end by the ``&&CCCC\\r\\n``
tail instead). The standard's test key is sixteen ``0x30`` bytes.
"""

from __future__ import annotations

import re

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from protocol.codes import Reject
from protocol.errors import RemoteProtocolError

TEST_KEY = b"0" * 16
_BLOCK = 16
_CIPHERTEXT = re.compile(rb"CP=&&\{(0[xX][0-9A-Fa-f]{2}(?:,0[xX][0-9A-Fa-f]{2})*)\}")


def _cipher(key: bytes) -> Cipher[modes.ECB]:
    if len(key) != 16:
        raise ValueError(f"an SM4 key has 16 bytes, not {len(key)}")
    return Cipher(algorithms.SM4(key), modes.ECB())


def is_encrypted(segment: bytes) -> bool:
    return b"&&{0" in segment and (b"CP=&&{0x" in segment or b"CP=&&{0X" in segment)


def decrypt_segment(segment: bytes, key: bytes) -> bytes:
    """The plaintext segment of an encrypted one.

    :raises RemoteProtocolError: ``decrypt`` when the ciphertext is malformed.
    """
    match = _CIPHERTEXT.search(segment)
    if match is None:
        raise RemoteProtocolError(Reject.DECRYPT, "no '{0x..,...}' ciphertext after 'CP=&&'")
    hex_bytes = [h for h in match.group(1).split(b",") if h]
    ciphertext = bytes(int(h, 0) for h in hex_bytes)
    if len(ciphertext) % _BLOCK:
        raise RemoteProtocolError(
            Reject.DECRYPT, f"ciphertext of {len(ciphertext)} bytes is not whole 16-byte groups"
        )
    decryptor = _cipher(key).decryptor()
    plain = decryptor.update(ciphertext) + decryptor.finalize()
    return segment[: match.start()] + b"CP=&&" + plain + segment[match.end() :]


def encrypt_segment(segment: bytes, key: bytes) -> bytes:
    """Encrypt the CP area of a plaintext segment (whole groups; the tail stays plain)."""
    start = segment.index(b"CP=&&") + 5
    end = len(segment) - 2
    cp = segment[start:end]
    whole = len(cp) - len(cp) % _BLOCK
    if not whole:
        return segment
    encryptor = _cipher(key).encryptor()
    ciphertext = encryptor.update(cp[:whole]) + encryptor.finalize()
    text = ",".join(f"0x{b:02X}" for b in ciphertext).encode("ascii")
    return segment[:start] + b"{" + text + b"}" + cp[whole:] + segment[end:]
