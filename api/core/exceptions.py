class ApplicationError(Exception):
    """The one domain error: services raise it, the exception handler turns it into the
    error envelope (README, "API")."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int = 400,
        fields: dict[str, list[str]] | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.fields = fields or {}
        self.retry_after = retry_after  # seconds, sent as Retry-After (with a 503)
