"""Access errors."""

from shopops.errors import Forbidden, InvalidInput, Unauthenticated


class MissingApiKey(Unauthenticated):
    code = "missing_api_key"


class InvalidApiKey(Unauthenticated):
    code = "invalid_api_key"


class WrongRole(Forbidden):
    code = "wrong_role"


class UnknownRole(InvalidInput):
    code = "unknown_role"


class InvalidCredentials(Unauthenticated):
    code = "invalid_credentials"


class UsernameTaken(InvalidInput):
    code = "username_taken"


class WeakPassword(InvalidInput):
    code = "weak_password"
