"""The one error type every driver raises: a one-line message a technician can act on."""


class DriverError(RuntimeError):
    """A device is missing, refuses a command or stopped answering."""
