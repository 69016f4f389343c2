"""Password generation and hashing. Clear passwords exist only in memory, on their way to the one caller who sees them."""
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# No look-alikes (0/O, 1/l/I) so that a password read off a screen or a CSV is typed right.
_LOWER = "abcdefghijkmnopqrstuvwxyz"
_UPPER = "ABCDEFGHJKLMNPQRSTUVWXYZ"
_DIGITS = "23456789"
_ALPHABET = _LOWER + _UPPER + _DIGITS
LENGTH = 14  # about 82 bits

_hasher = PasswordHasher()
# A real hash to verify against when the login ID is unknown, so both paths cost the same.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def generate():
    """A random password with at least one lower-case letter, upper-case letter and digit."""
    while True:
        password = "".join(secrets.choice(_ALPHABET) for _ in range(LENGTH))
        if (any(c in _LOWER for c in password) and any(c in _UPPER for c in password)
                and any(c in _DIGITS for c in password)):
            return password


def hash_password(password):
    return _hasher.hash(password)


def verify(password_hash, password):
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False

