"""One root error type; every subclass carries a message that tells the user what to do."""


class LabellerError(Exception):
    """Root of all errors the app shows to the user as a message (never a traceback)."""

    retryable: bool = True
    """True when trying the same thing again may well work: the page offers a Retry button."""


class InvalidAOIError(LabellerError, ValueError):
    """The area of interest cannot be used as given."""

    retryable = False


class InvalidInputError(LabellerError, ValueError):
    """A label value, date range or other form input is not acceptable."""

    retryable = False


class SourceError(LabellerError):
    """An image source failed to list acquisitions or to deliver a scene."""


class NoAcquisitionsError(SourceError):
    """The source has no acquisitions for this area, period and cloud limit."""

    retryable = False


class StoreError(LabellerError):
    """The label store could not read or write."""


class ReviewConflictError(LabellerError):
    """Another session reviewed (or un-reviewed) an image since this one last saw it.

    ``current`` is the review stored now (None: there is none), so that the session can
    learn it and a second press replaces it on purpose.
    """

    def __init__(self, message: str, current=None) -> None:
        super().__init__(message)
        self.current = current
