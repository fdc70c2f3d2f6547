"""Errors a user can fix (bad parameter, missing file, no camera, no model).

Entry points report these as one line and a non-zero exit, never a traceback.
"""

from .params import ParameterError
from .pose import PoseModelError
from .rs_recording import RecordingError
from .session_io import SessionFileError
from .sources import SourceError

USER_ERRORS: tuple[type[Exception], ...] = (
    ParameterError,
    SessionFileError,
    SourceError,
    PoseModelError,
    RecordingError,
)
